// Many tests seed TorchSharp's process-wide RNG (manual_seed) and rely on the numbers it then draws (weight
// initialisation, dropout): tests running in parallel would draw from the same generator in between.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
