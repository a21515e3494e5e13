using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Platform.ServiceDefaults.Security;

/// <summary>
/// Marks a response property that holds an internal artifact key (where a checkpoint or tokenizer lies in the store):
/// written for admins and the services only, left out for every other key.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class ArtifactKeyAttribute : Attribute;

public static class ArtifactKeys
{
    /// <summary>Whether the caller may see where things lie in the artifact store.</summary>
    public static bool SeesArtifactKeys(this Caller caller) => caller.ReadsEverything;

    /// <summary>Leaves <see cref="ArtifactKeyAttribute"/> properties out of API responses to callers who may not see
    /// them.</summary>
    public static IServiceCollection HideArtifactKeys(this IServiceCollection services)
    {
        services.AddHttpContextAccessor();
        services.AddOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>().Configure<IHttpContextAccessor>((options,
            http) =>
            options.SerializerOptions.TypeInfoResolver = (options.SerializerOptions.TypeInfoResolver
                                                          ?? new DefaultJsonTypeInfoResolver())
                .WithAddedModifier(type =>
                {
                    foreach (var property in type.Properties)
                        if (property.AttributeProvider?.IsDefined(typeof(ArtifactKeyAttribute), inherit: true) == true)
                            property.ShouldSerialize = (_, _) =>
                                Caller.From(http.HttpContext?.User) is { } caller && caller.SeesArtifactKeys();
                }));
        return services;
    }
}
