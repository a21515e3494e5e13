using NetArchTest.Rules;
using Training.Registry;

namespace Platform.Services.Tests;

/// <summary>
/// The model registry is a module of the Training service with a one-way interface: nothing in Training.Registry uses
/// the rest of Training, and the rest of Training reaches the registry only through <see cref="ModelRegistry"/> (with
/// the records it returns), the module's set-up (<see cref="RegistryModule"/>) and the one port it declares
/// (<see cref="IImportMemory"/>), never its tables, endpoints, consumers or internals. Checked in the compiled IL, so
/// a method body's use counts as much as a signature's.
/// </summary>
public class RegistryBoundaryTests
{
    private static readonly System.Reflection.Assembly Training = typeof(ModelRegistry).Assembly;

    private static string Describe(TestResult result) =>
        string.Join(", ", result.FailingTypeNames ?? []);

    [Fact]
    public void Nothing_in_the_registry_uses_the_rest_of_the_training_service()
    {
        var result = Types.InAssembly(Training).That().ResideInNamespace("Training.Registry")
            .ShouldNot().HaveDependencyOnAny("Training.Apis", "Training.Runs", "Training.Data", "Training.Consumers",
                "Training.Sweeps", "Program")
            .GetResult();
        Assert.True(result.IsSuccessful, "registry types using the rest of Training: " + Describe(result));
    }

    [Fact]
    public void The_rest_of_the_training_service_reaches_the_registry_only_through_its_interface()
    {
        var result = Types.InAssembly(Training).That().DoNotResideInNamespace("Training.Registry")
            .ShouldNot().HaveDependencyOnAny("Training.Registry.Data", "Training.Registry.Apis",
                "Training.Registry.Consumers", typeof(Registrar).FullName, typeof(AliasBook).FullName,
                typeof(ModelNames).FullName, typeof(ModelVersions).FullName, typeof(LineageAnnouncement).FullName)
            .GetResult();
        Assert.True(result.IsSuccessful, "types outside the registry using its internals: " + Describe(result));
    }
}
