namespace Platform.ML;

/// <summary>Linear warmup to the peak rate, then cosine decay to the floor at maxSteps (nanoGPT's get_lr).</summary>
public sealed record LearningRateSchedule(double PeakRate, double MinRate, int WarmupSteps, int DecaySteps)
{
    public double At(int step)
    {
        if (step < WarmupSteps)
            return PeakRate * (step + 1) / (WarmupSteps + 1);
        if (step >= DecaySteps)
            return MinRate;
        var progress = (double)(step - WarmupSteps) / Math.Max(1, DecaySteps - WarmupSteps);
        var coefficient = 0.5 * (1.0 + Math.Cos(Math.PI * progress));
        return MinRate + coefficient * (PeakRate - MinRate);
    }
}
