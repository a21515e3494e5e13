using System.Diagnostics;
using k8s;
using k8s.Models;
using YamlDotNet.RepresentationModel;

namespace Platform.Services.Tests;

/// <summary>
/// infra/k8s as a real Kustomize renders it (kubectl; Debian's, installed by infra/setup.sh --test, where none is),
/// every rendered object read strictly into KubernetesClient's typed models (a misspelt or misplaced field fails)
/// and written back unchanged, then checked for what the platform needs: probes on the health
/// endpoints, requests and limits, Secrets only where they belong, Services, budgets and the autoscaler that find
/// their pods, and the same services as docker-compose.yml.
/// </summary>
public class KubernetesManifestTests
{
    private static readonly string Root = RepoRoot.Path;
    private static readonly string[] Workers = ["ingestion", "tokenization", "training", "evaluation", "generation"];
    private static readonly Lazy<string> Rendered = new(() => RenderAll());

    [Fact]
    public void Each_service_connects_to_the_database_as_its_own_role_which_a_job_makes_and_then_locks_the_audit()
    {
        var dev = Objects("overlays/dev");
        string Setting(V1Secret secret, string key) => System.Text.Encoding.UTF8.GetString(secret.Data[key]);
        var secrets = dev.OfType<V1Secret>().ToDictionary(s => s.Metadata.Name);
        foreach (var deployment in dev.OfType<V1Deployment>())
        {
            var name = deployment.Metadata.Name;
            var sources = deployment.Spec.Template.Spec.Containers.Single().EnvFrom.Where(e => e.SecretRef is not null)
                .Select(e => secrets[e.SecretRef.Name]).ToList();
            // Exactly one of its secrets sets its connection string, naming its own role.
            var database = Assert.Single(sources, s => s.Data.ContainsKey("ConnectionStrings__Platform"));
            Assert.Contains($"Username=platform_{name};", Setting(database, "ConnectionStrings__Platform"));
            Assert.StartsWith($"platform-{name}", database.Metadata.Name);
        }
        var jobs = dev.OfType<V1Job>().ToDictionary(j => j.Metadata.Name);
        Assert.Equal(["audit-lock", "db-roles"], jobs.Keys.Order());
        var sql = dev.OfType<V1ConfigMap>().Single(c => c.Metadata.Name == "platform-db-sql").Data;
        Assert.Equal(File.ReadAllText(Path.Combine(Root, "infra", "db", "roles.sql")), sql["roles.sql"]);
        Assert.Contains("/db/roles.sql",
            string.Join(" ", jobs["db-roles"].Spec.Template.Spec.Containers.Single().Command));
        Assert.Contains("/health/ready",
            string.Join(" ", jobs["audit-lock"].Spec.Template.Spec.Containers.Single().Command));
    }

    [Fact]
    public void Each_service_that_sends_messages_logs_in_to_the_broker_as_its_own_user_which_the_broker_imports()
    {
        var dev = Objects("overlays/dev");
        string Setting(V1Secret secret, string key) => System.Text.Encoding.UTF8.GetString(secret.Data[key]);
        var secrets = dev.OfType<V1Secret>().ToDictionary(s => s.Metadata.Name);
        var broker = dev.OfType<V1StatefulSet>().Single(s => s.Metadata.Name == "rabbitmq").Spec.Template.Spec;
        var container = broker.Containers.Single();
        Assert.Equal(["sh", "/broker/start.sh"], container.Command);
        var scripts = dev.OfType<V1ConfigMap>().Single(c => c.Metadata.Name == "platform-broker").Data;
        foreach (var file in new[] { "start.sh", "definitions.sh" })
            Assert.Equal(File.ReadAllText(Path.Combine(Root, "infra", "broker", file)), scripts[file]);
        Assert.Equal("platform-broker", broker.Volumes.Single(v => v.Name == container.VolumeMounts
            .Single(m => m.MountPath == "/broker").Name).ConfigMap.Name);
        // Generated Secrets carry a hash suffix: platform-secrets-<hash>.
        Assert.DoesNotContain(secrets.Values.Single(s => s.Metadata.Name.StartsWith("platform-secrets-")).Data.Keys,
            k => k.Contains("RabbitMq"));

        foreach (var deployment in dev.OfType<V1Deployment>())
        {
            var name = deployment.Metadata.Name;
            var urls = deployment.Spec.Template.Spec.Containers.Single().EnvFrom.Where(e => e.SecretRef is not null)
                .Select(e => secrets[e.SecretRef.Name]).Where(s => s.Data.ContainsKey("ConnectionStrings__RabbitMq"))
                .Select(s => new Uri(Setting(s, "ConnectionStrings__RabbitMq"))).ToList();
            if (name == "gateway")
            {
                Assert.Empty(urls);   // it sends no message
                continue;
            }
            // The password in the service's URL is the one the broker's definitions give its user.
            var url = Assert.Single(urls);
            var reference = container.Env.Single(e => e.Name == $"BROKER_PASSWORD_{name.ToUpperInvariant()}")
                .ValueFrom.SecretKeyRef;
            Assert.Equal($"platform-{name}:{Setting(secrets[reference.Name], reference.Key)}", url.UserInfo);
        }
    }

    [Theory]
    [InlineData("base")]
    [InlineData("overlays/dev")]
    [InlineData("overlays/gpu")]
    [InlineData("overlays/s3")]
    [InlineData("overlays/tls")]
    public void Every_rendered_object_reads_into_the_Kubernetes_models_with_no_field_left_over(string target)
    {
        var documents = Render(target);
        Assert.NotEmpty(documents);
        foreach (var yaml in documents)
        {
            var model = Load(yaml);
            var typed = Assert.IsAssignableFrom<IKubernetesObject>(model);
            var original = Canonical(yaml);
            var roundTripped = Canonical(KubernetesYaml.Serialize(model));
            Assert.True(original == roundTripped,
                $"{typed.Kind} in {target}: the model dropped or changed fields.\nrendered:\n{original}\n" +
                $"as the model reads it:\n{roundTripped}");
        }
    }

    [Fact]
    public void Every_service_runs_with_probes_on_its_health_endpoints_and_with_requests_and_limits()
    {
        var deployments = Objects("overlays/dev").OfType<V1Deployment>().ToList();
        Assert.Equal(Workers.Append("gateway").Order(), deployments.Select(d => d.Metadata.Name).Order());
        foreach (var deployment in deployments)
        {
            var container = Assert.Single(deployment.Spec.Template.Spec.Containers);
            Assert.Equal("/health/ready", container.ReadinessProbe.HttpGet.Path);
            Assert.Equal("/health/live", container.LivenessProbe.HttpGet.Path);
            foreach (var resource in new[] { "cpu", "memory" })
            {
                Assert.True(container.Resources.Requests.ContainsKey(resource),
                    $"{deployment.Metadata.Name} requests no {resource}");
                Assert.True(container.Resources.Limits.ContainsKey(resource),
                    $"{deployment.Metadata.Name} has no {resource} limit");
                Assert.True(
                    container.Resources.Requests[resource].ToDecimal() <= container.Resources.Limits[resource]
                    .ToDecimal());
            }
            Assert.Equal(8080, container.Ports.Single(p => p.Name == "http").ContainerPort);
        }
    }

    [Fact]
    public void Secrets_come_from_outside_the_base_and_only_the_gateway_holds_the_admin_key()
    {
        Assert.Empty(Objects("base").OfType<V1Secret>());
        var dev = Objects("overlays/dev");
        var secrets = dev.OfType<V1Secret>().Select(s => s.Metadata.Name).ToHashSet();
        var configMaps = dev.OfType<V1ConfigMap>().Select(c => c.Metadata.Name).ToHashSet();
        foreach (var (name, pod, _) in PodTemplates(dev))
        {
            var container = pod.Containers.Single();
            foreach (var source in container.EnvFrom ?? [])
            {
                if (source.SecretRef is { } secret)
                    Assert.Contains(secret.Name, secrets);
                if (source.ConfigMapRef is { } map)
                    Assert.Contains(map.Name, configMaps);
            }
            foreach (var variable in container.Env ?? [])
                if (variable.ValueFrom?.SecretKeyRef is { } key)
                    Assert.Contains(key.Name, secrets);
            var holdsAdminKey = (container.EnvFrom ?? []).Any(s =>
                s.SecretRef?.Name.StartsWith("platform-admin", StringComparison.Ordinal) == true);
            Assert.Equal(name == "gateway", holdsAdminKey);
            // No credential is written into a manifest: every value that looks like one comes from a Secret.
            Assert.DoesNotContain(container.Env ?? [], v => v.Value is not null
                && (v.Name.Contains("PASSWORD") || v.Name.Contains("SECRET") || v.Name.Contains("KEY")
                || v.Name.StartsWith("ConnectionStrings")));
        }
    }

    [Theory]
    [InlineData("base")]
    [InlineData("overlays/dev")]
    [InlineData("overlays/gpu")]
    public void Services_budgets_and_the_autoscaler_find_their_pods(string target)
    {
        var objects = Objects(target);
        var pods = PodTemplates(objects).Select(p => p.Labels).ToList();
        bool Selects(IDictionary<string, string> selector) =>
            pods.Any(labels => selector.All(s => labels.TryGetValue(s.Key, out var v) && v == s.Value));
        foreach (var service in objects.OfType<V1Service>())
            Assert.True(Selects(service.Spec.Selector), $"Service {service.Metadata.Name} selects no pod");
        foreach (var budget in objects.OfType<V1PodDisruptionBudget>())
            Assert.True(Selects(budget.Spec.Selector.MatchLabels),
                $"PodDisruptionBudget {budget.Metadata.Name} selects no pod");
        var autoscaler = Assert.Single(objects.OfType<V2HorizontalPodAutoscaler>());
        Assert.Contains(objects.OfType<V1Deployment>(), d => d.Metadata.Name == autoscaler.Spec.ScaleTargetRef.Name);
        Assert.True(autoscaler.Spec.MinReplicas >= 2, "Generation must keep two replicas to survive losing one");
        var claim = Assert.Single(objects.OfType<V1PersistentVolumeClaim>());
        Assert.Contains("ReadWriteMany", claim.Spec.AccessModes);
    }

    [Fact]
    public void The_gateway_reaches_each_service_at_a_Service_of_that_name()
    {
        var objects = Objects("base");
        var services = objects.OfType<V1Service>().ToDictionary(s => s.Metadata.Name);
        var gateway = objects.OfType<V1Deployment>().Single(d =>
            d.Metadata.Name == "gateway").Spec.Template.Spec.Containers.Single();
        var addresses = gateway.Env.Where(e =>
            e.Name.StartsWith("ReverseProxy__Clusters__", StringComparison.Ordinal)).ToList();
        Assert.Equal(Workers.Order(), addresses.Select(a => a.Name.Split("__")[2]).Order());
        foreach (var address in addresses)
        {
            var uri = new Uri(address.Value);
            Assert.True(services.TryGetValue(uri.Host, out var service),
                $"{address.Name} points at {uri.Host}, which is no Service");
            Assert.Contains(service.Spec.Ports, p => p.Port == uri.Port);
        }
    }

    [Fact]
    public void The_services_are_those_of_docker_compose()
    {
        var compose = new YamlStream();
        compose.Load(new StringReader(File.ReadAllText(Path.Combine(Root, "docker-compose.yml"))));
        var composeServices = ((YamlMappingNode)((YamlMappingNode)compose.Documents[0].RootNode)["services"])
            .Children.Keys
            .Select(k => k.ToString()).ToHashSet();
        var dev = Objects("overlays/dev");
        // Compose's one-shot services are Jobs here.
        var workloads = dev.OfType<V1Deployment>().Select(d => d.Metadata.Name)
            .Concat(dev.OfType<V1StatefulSet>().Select(s => s.Metadata.Name))
            .Concat(dev.OfType<V1Job>().Select(j => j.Metadata.Name)).ToHashSet();
        Assert.Equal(composeServices.Order(), workloads.Order());
    }

    [Fact]
    public void The_gpu_overlay_gives_one_GPU_and_the_CUDA_image_to_Training_and_Generation_only()
    {
        foreach (var deployment in Objects("overlays/gpu").OfType<V1Deployment>())
        {
            var container = deployment.Spec.Template.Spec.Containers.Single();
            var wantsGpu = deployment.Metadata.Name is "training" or "generation";
            Assert.Equal(wantsGpu, container.Resources.Limits.ContainsKey("nvidia.com/gpu"));
            Assert.Equal(wantsGpu, container.Image.EndsWith(":cuda", StringComparison.Ordinal));
            if (wantsGpu)
                Assert.Equal(1m, container.Resources.Limits["nvidia.com/gpu"].ToDecimal());
        }
    }

    [Fact]
    public void The_s3_overlay_claims_no_shared_volume_and_gives_every_worker_a_cache_the_bucket_settings_and_its_keys()
    {
        var s3 = Objects("overlays/s3");
        Assert.DoesNotContain(s3, o => o is V1PersistentVolumeClaim);
        var config = s3.OfType<V1ConfigMap>().Single(c => c.Metadata.Name == "platform-config").Data;
        Assert.Equal("s3", config["Artifacts__Store"]);
        // Every Artifacts__S3__ setting names a property the services bind (Artifacts:S3 → S3ArtifactOptions).
        var bound = typeof(Platform.Storage.S3ArtifactOptions).GetProperties().Select(p => p.Name).ToHashSet();
        var settings = config.Keys.Where(k => k.StartsWith("Artifacts__S3__", StringComparison.Ordinal)).ToList();
        Assert.Contains("Artifacts__S3__Bucket", settings);
        Assert.All(settings, k => Assert.Contains(k["Artifacts__S3__".Length..], bound));
        foreach (var deployment in s3.OfType<V1Deployment>().Where(d => Workers.Contains(d.Metadata.Name)))
        {
            var pod = deployment.Spec.Template.Spec;
            var volume = pod.Volumes.Single(v => v.Name == "artifacts");
            Assert.Null(volume.PersistentVolumeClaim);
            Assert.NotNull(volume.EmptyDir);
            Assert.Equal("/artifacts",
                pod.Containers.Single().VolumeMounts.Single(m => m.Name == "artifacts").MountPath);
            var sources = pod.Containers.Single().EnvFrom;
            Assert.Equal(["platform-config"],
                sources.Where(e => e.ConfigMapRef is not null).Select(e => e.ConfigMapRef.Name));
            Assert.Equal(["platform-secrets", $"platform-{deployment.Metadata.Name}", "platform-s3"],
                sources.Where(e => e.SecretRef is not null).Select(e => e.SecretRef.Name));
        }
        Assert.DoesNotContain(s3.OfType<V1Deployment>().Single(d =>
            d.Metadata.Name == "gateway").Spec.Template.Spec.Containers.Single().EnvFrom ?? [],
            e => e.SecretRef?.Name == "platform-s3");
    }

    [Fact]
    public void Only_the_gateway_is_reachable_from_outside_and_only_the_platform_reaches_its_services_and_data()
    {
        var objects = Objects("overlays/dev");
        var policies = objects.OfType<V1NetworkPolicy>().ToList();
        var pods = PodTemplates(objects).ToDictionary(p => p.Name, p => p.Labels);
        // Whether a connection from a pod with these labels (null: from outside the platform) to the pod is admitted.
        bool Admits(string to, string? from) => policies
            .Where(p => Selects(p.Spec.PodSelector, pods[to]))
            .SelectMany(p => p.Spec.Ingress ?? [])
            .Any(rule => rule.FromProperty is null || from is not null
                         && rule.FromProperty.Any(peer => peer.PodSelector is { } selector
                                                          && Selects(selector, pods[from])));

        Assert.All(pods.Keys, pod => Assert.Contains(policies, p => Selects(p.Spec.PodSelector, pods[pod])));
        Assert.True(Admits("gateway", null), "the gateway must take requests from outside");
        foreach (var service in Workers)
        {
            Assert.False(Admits(service, null), $"{service} is reachable from outside the platform");
            Assert.True(Admits(service, "gateway"), $"the gateway cannot reach {service}");
        }
        Assert.True(Admits("ingestion", "training") && Admits("training", "ingestion"),
            "Training and Ingestion ask each other");
        foreach (var data in new[] { "postgres", "rabbitmq" })
        {
            Assert.False(Admits(data, null), $"{data} is reachable from outside the platform");
            Assert.All(Workers, service => Assert.True(Admits(data, service), $"{service} cannot reach {data}"));
        }
    }

    private static bool Selects(V1LabelSelector selector, IDictionary<string, string> labels) =>
        (selector.MatchLabels ?? new Dictionary<string, string>())
            .All(l => labels.TryGetValue(l.Key, out var v) && v == l.Value)
        && (selector.MatchExpressions ?? []).All(e => e.OperatorProperty switch
        {
            "In" => labels.TryGetValue(e.Key, out var v) && e.Values.Contains(v),
            "NotIn" => !labels.TryGetValue(e.Key, out var v) || !e.Values.Contains(v),
            "Exists" => labels.ContainsKey(e.Key),
            _ => !labels.ContainsKey(e.Key),
        });

    [Fact]
    public void The_tls_overlay_serves_the_gateway_on_https_from_its_secret_behind_an_ingress_that_terminates_tls()
    {
        var objects = Objects("overlays/tls");
        var pod = objects.OfType<V1Deployment>().Single(d => d.Metadata.Name == "gateway").Spec.Template.Spec;
        var container = pod.Containers.Single();
        string? Setting(string name) => container.Env.SingleOrDefault(e => e.Name == name)?.Value;
        Assert.Equal("https://+:8080", Setting("ASPNETCORE_URLS"));
        var volume = pod.Volumes.Single(v => v.Secret?.SecretName == "platform-tls");
        var mount = container.VolumeMounts.Single(m => m.Name == volume.Name);
        Assert.Equal($"{mount.MountPath}/tls.crt", Setting("Kestrel__Certificates__Default__Path"));
        Assert.Equal($"{mount.MountPath}/tls.key", Setting("Kestrel__Certificates__Default__KeyPath"));
        Assert.All(new[] { container.ReadinessProbe, container.LivenessProbe, container.StartupProbe },
            probe => Assert.Equal("HTTPS", probe.HttpGet.Scheme));
        var ingress = Assert.Single(objects.OfType<V1Ingress>());
        Assert.Equal("platform-tls", ingress.Spec.Tls.Single().SecretName);
        Assert.Equal("gateway", ingress.Spec.Rules.Single().Http.Paths.Single().Backend.Service.Name);
        Assert.Equal("HTTPS", ingress.Metadata.Annotations["nginx.ingress.kubernetes.io/backend-protocol"]);
        // The services behind the gateway are untouched.
        Assert.All(objects.OfType<V1Deployment>().Where(d => d.Metadata.Name != "gateway"),
            d => Assert.DoesNotContain(d.Spec.Template.Spec.Containers.Single().Env ?? [],
                e => e.Name == "ASPNETCORE_URLS"));
    }

    private static List<object> Objects(string target) => Render(target).Select(Load).ToList();

    // Strict: a field the model does not have is an error, not a field silently dropped; a kind it does not know too.
    private static object Load(string yaml) =>
        Assert.Single(KubernetesYaml.LoadAllFromString(yaml, null, strict: true));

    private static IEnumerable<(string Name, V1PodSpec Spec, IDictionary<string,
        string> Labels)> PodTemplates(IEnumerable<object> objects) =>
        objects.OfType<V1Deployment>().Select(d =>
        (d.Metadata.Name, d.Spec.Template.Spec, d.Spec.Template.Metadata.Labels))
            .Concat(objects.OfType<V1StatefulSet>().Select(s =>
            (s.Metadata.Name, s.Spec.Template.Spec, s.Spec.Template.Metadata.Labels)))
            .Concat(objects.OfType<V1Job>().Select(j =>
            (j.Metadata.Name, j.Spec.Template.Spec, j.Spec.Template.Metadata.Labels)));

    /// <summary>The target's objects, one YAML document each, as `kubectl kustomize` renders them.</summary>
    private static List<string> Render(string target)
    {
        var all = Rendered.Value;
        var marker = $"#### {target}\n";
        var start = all.IndexOf(marker, StringComparison.Ordinal) + marker.Length;
        var end = all.IndexOf("#### ", start, StringComparison.Ordinal);
        return all[start..(end < 0 ? all.Length : end)].Split("\n---\n")
            .Where(d => !string.IsNullOrWhiteSpace(d)).ToList();
    }

    // Renders every target once, from a copy of infra/k8s (and infra/db and infra/broker, which the dev overlay's Jobs
    // and broker run) in
    // which the dev overlay's make-secrets.sh has written its Secret files (they are never committed).
    private static string RenderAll()
    {
        var copy = Directory.CreateTempSubdirectory("platform-k8s-");
        try
        {
            var k8s = Path.Combine(copy.FullName, "k8s");
            CopyDirectory(Path.Combine(Root, "infra", "k8s"), k8s);
            CopyDirectory(Path.Combine(Root, "infra", "db"), Path.Combine(copy.FullName, "db"));
            CopyDirectory(Path.Combine(Root, "infra", "broker"), Path.Combine(copy.FullName, "broker"));
            Run("bash", [Path.Combine(k8s, "overlays", "dev", "make-secrets.sh")]);
            var output = new System.Text.StringBuilder();
            foreach (var target in new[] { "base", "overlays/dev", "overlays/gpu", "overlays/s3", "overlays/tls" })
                output.Append($"#### {target}\n").Append(Run("kubectl", ["kustomize", Path.Combine(k8s, target)]));
            return output.ToString();
        }
        finally
        {
            copy.Delete(recursive: true);
        }
    }

    private static string Run(string program, string[] arguments)
    {
        var start = new ProcessStartInfo(program, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true
        };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{program} {string.Join(' ', arguments)} failed: {error.Result}");
        return output.Result;
    }

    private static void CopyDirectory(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    /// <summary>A YAML document as sorted "path = scalar" lines, so that layout, key order and quoting do not
    /// count.</summary>
    private static string Canonical(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        var lines = new List<string>();
        void Walk(YamlNode node, string path)
        {
            switch (node)
            {
                case YamlMappingNode map:
                    foreach (var (key, value) in map.Children)
                        Walk(value, $"{path}.{key}");
                    break;
                case YamlSequenceNode list:
                    for (var i = 0; i < list.Children.Count; i++)
                        Walk(list.Children[i], $"{path}[{i}]");
                    break;
                case YamlScalarNode scalar when scalar.Value is not (null or "" or "null" or "~"):
                    // Line breaks do not count: Kustomize wraps a Secret's long base64 values, the model does not.
                    lines.Add($"{path} = {scalar.Value.Replace("\n", "")}");
                    break;
            }
        }
        Walk(stream.Documents[0].RootNode, "");
        return string.Join('\n', lines.Order(StringComparer.Ordinal));
    }
}
