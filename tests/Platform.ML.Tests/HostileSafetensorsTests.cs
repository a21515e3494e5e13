using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace Platform.ML.Tests;

/// <summary>
/// Weights files are uploaded by users: a malformed or hostile one must be refused with a reason before anything is
/// allocated for it. The oracle is the format's rule (each tensor's byte range holds exactly shape × dtype bytes,
/// inside the file, overlapping no other) and the model's own parameter list.
/// </summary>
public class HostileSafetensorsTests
{
    private static readonly GptConfig Small = new(VocabSize: 20, BlockSize: 8, NLayer: 2, NHead: 2, NEmbd: 8);

    /// <summary>A file's header and data as editable parts: the header's JSON, then the data bytes.</summary>
    private sealed record Parts(JsonObject Header, byte[] Data)
    {
        public static Parts Of(Gpt model)
        {
            using var stream = new MemoryStream();
            SafetensorsExport.Write(model, stream);
            var bytes = stream.ToArray();
            var length = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
            var header = JsonNode.Parse(Encoding.UTF8.GetString(bytes, 8, length))!.AsObject();
            return new Parts(header, bytes[(8 + length)..]);
        }

        public byte[] Bytes(Func<byte[], byte[]>? editHeader = null)
        {
            var json = Encoding.UTF8.GetBytes(Header.ToJsonString());
            json = editHeader?.Invoke(json) ?? json;
            var file = new byte[8 + json.Length + Data.Length];
            BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)json.Length);
            json.CopyTo(file, 8);
            Data.CopyTo(file, 8 + json.Length);
            return file;
        }

        public Parts Copy() => new(JsonNode.Parse(Header.ToJsonString())!.AsObject(), (byte[])Data.Clone());
    }

    private static Parts Valid()
    {
        manual_seed(5);
        using var model = new Gpt(Small);
        return Parts.Of(model);
    }

    /// <summary>Plans and, where the plan passes, imports; the refusal's message, or null when it imported.</summary>
    private static string? Outcome(byte[] file)
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(path, file);
            var plan = GptImport.Plan(path, Small.VocabSize);
            // Nothing about these files may make a model of more than a few thousand parameters.
            Assert.True(plan.Parameters < 100_000, $"planned {plan.Parameters} parameters");
            using var imported = GptImport.Import(plan).Model;
            return null;
        }
        catch (Exception ex) when (ex is ImportException or InvalidDataException)
        {
            return ex.Message;
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void The_parameter_list_an_import_checks_is_the_models_own()
    {
        foreach (var config in new[] { Small, Small with { Bias = false }, Small with { VocabSize = 70, NLayer = 3 } })
        {
            using var model = new Gpt(config);
            var actual = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.shape);
            var planned = GptImport.ParameterShapes(config).ToDictionary(p => p.Name, p => p.Shape);
            Assert.Equal(actual.Keys.Order(), planned.Keys.Order());
            Assert.All(actual, p => Assert.Equal(p.Value, planned[p.Key]));
            Assert.Equal(model.parameters().Sum(p => p.numel()),
                new ImportPlan(null!, "", config, false, "").Parameters);
        }
    }

    [Fact]
    public void A_small_header_declaring_a_400_layer_16384_wide_model_over_empty_ranges_is_refused_unallocated()
    {
        var header = new JsonObject { ["__metadata__"] = new JsonObject { ["config"] = "{\"n_head\":128}" } };
        void Add(string name, params long[] shape) =>
            header[name] = new JsonObject
            {
                ["dtype"] = "F32",
                ["shape"] = new JsonArray([.. shape.Select(d => (JsonNode)d)]),
                ["data_offsets"] = new JsonArray(0, 0),
            };
        Add("transformer.wte.weight", 50304, 16384);
        Add("transformer.wpe.weight", 1024, 16384);
        for (var layer = 0; layer < 400; layer++)
            Add($"transformer.h.{layer}.attn.c_attn.weight", 3 * 16384, 16384);
        var message = Outcome(new Parts(header, []).Bytes());
        Assert.NotNull(message);
        Assert.Contains("holds 0 bytes", message);
    }

    [Fact]
    public void Two_hundred_and_fifty_malformed_files_are_each_refused_with_a_reason_and_none_throws_anything_else()
    {
        var valid = Valid();
        Assert.Null(Outcome(valid.Bytes()));
        var random = new Random(20261206);
        var names = valid.Header.Select(p => p.Key).Where(n => n != "__metadata__").ToArray();
        JsonObject Entry(Parts p, string name) => p.Header[name]!.AsObject();
        long[] Offsets(Parts p, string name) =>
            [.. Entry(p, name)["data_offsets"]!.AsArray().Select(o => o!.GetValue<long>())];
        byte[] WithLength(Parts p, ulong length)
        {
            var bytes = p.Bytes();
            BinaryPrimitives.WriteUInt64LittleEndian(bytes, length);
            return bytes;
        }
        var huge = new JsonNode?[] { long.MaxValue, 1L << 40, 1L << 62, -1, 3.5, "8", null, true };

        // Each mutation spoils one thing (a few spoil several); all are drawn from the seed, so a failure repeats.
        var mutations = new List<(string What, Func<Parts, byte[]> Make)>
        {
            ("header length zero", p => WithLength(p, 0)),
            ("header length past the end", p => WithLength(p, (ulong)p.Bytes().Length)),
            ("header length 2^64-1", p => WithLength(p, ulong.MaxValue)),
            ("seven bytes", p => p.Bytes()[..7]),
            ("header not JSON", p => p.Bytes(json => [.. json.Select(c => c == (byte)'{' ? (byte)'[' : c)])),
            ("header a JSON array", p => p.Bytes(_ => "[1,2,3]"u8.ToArray())),
            ("metadata not an object", p => { p.Header["__metadata__"] = 7; return p.Bytes(); }),
        };
        for (var i = 0; i < 243; i++)
        {
            var name = names[random.Next(names.Length)];
            var other = names[random.Next(names.Length)];
            var value = huge[random.Next(huge.Length)];
            var kind = random.Next(16);
            var cut = random.Next(1, 200);
            mutations.Add(kind switch
            {
                0 => ($"{name}: shape dimension {value?.ToJsonString()}", p =>
                {
                    var shape = Entry(p, name)["shape"]!.AsArray();
                    shape[random.Next(shape.Count)] = value?.DeepClone();
                    return p.Bytes();
                }
                ),
                1 => ($"{name}: shape whose product overflows", p =>
                {
                    Entry(p, name)["shape"] = new JsonArray(1L << 32, 1L << 32, 1L << 32);
                    return p.Bytes();
                }
                ),
                2 => ($"{name}: offsets {value?.ToJsonString()}", p =>
                {
                    Entry(p, name)["data_offsets"]![random.Next(2)] = value?.DeepClone();
                    return p.Bytes();
                }
                ),
                3 => ($"{name}: offsets reversed", p =>
                {
                    var o = Offsets(p, name);
                    Entry(p, name)["data_offsets"] = new JsonArray(o[1] + 4, o[0]);
                    return p.Bytes();
                }
                ),
                4 => ($"{name}: overlapping {other}", p =>
                {
                    var (a, b) = (Offsets(p, name), Offsets(p, other));
                    if (name == other)
                        return p.Bytes()[..^cut];
                    // The same length, moved onto the other tensor's bytes.
                    Entry(p, name)["data_offsets"] = new JsonArray(b[0], b[0] + (a[1] - a[0]));
                    return p.Bytes();
                }
                ),
                5 => ($"{name}: offsets past the end", p =>
                {
                    var o = Offsets(p, name);
                    Entry(p, name)["data_offsets"] = new JsonArray(o[0] + p.Data.Length, o[1] + p.Data.Length);
                    return p.Bytes();
                }
                ),
                6 => ($"{name}: dtype {value?.ToJsonString()}", p =>
                {
                    Entry(p, name)["dtype"] = value?.DeepClone();
                    return p.Bytes();
                }
                ),
                7 => ($"{name}: dtype I64", p =>
                {
                    // The same bytes as int64: a dtype the format knows but a GPT's weights are not.
                    var e = Entry(p, name);
                    var count = e["shape"]!.AsArray().Aggregate(1L, (a, d) => a * d!.GetValue<long>());
                    if (count % 2 == 0)
                        e["shape"] = new JsonArray(count / 2);
                    e["dtype"] = count % 2 == 0 ? "I64" : "U8";
                    return p.Bytes();
                }
                ),
                8 => ($"{name}: removed", p => { p.Header.Remove(name); return p.Bytes(); }),
                9 => ($"extra layer h.{2 + random.Next(500)}", p =>
                {
                    var extra = Entry(p, name).DeepClone().AsObject();
                    p.Header[$"transformer.h.{2 + cut}.{name.Split('.')[^2]}.{name.Split('.')[^1]}"] = extra;
                    return p.Bytes();
                }
                ),
                10 => ($"{name}: truncated by {cut} bytes", p => p.Bytes()[..^Math.Min(cut, p.Data.Length)]),
                11 => ($"{name}: a dimension dropped", p =>
                {
                    var shape = Entry(p, name)["shape"]!.AsArray();
                    var kept = shape.Skip(1).Select(d => d!.GetValue<long>()).ToArray();
                    Entry(p, name)["shape"] = new JsonArray([.. kept.Select(d => (JsonNode)d)]);
                    return p.Bytes();
                }
                ),
                12 => ($"{name}: shape transposed with its offsets kept", p =>
                {
                    var shape = Entry(p, name)["shape"]!.AsArray().Select(d => d!.GetValue<long>()).Reverse().ToArray();
                    Entry(p, name)["shape"] = new JsonArray([.. shape.Select(d => (JsonNode)d)]);
                    return p.Bytes();
                }
                ),
                13 => ("header bytes flipped", p => p.Bytes(json =>
                {
                    var spoiled = (byte[])json.Clone();
                    for (var flip = 0; flip < 1 + cut % 5; flip++)
                        spoiled[random.Next(spoiled.Length)] = (byte)random.Next(256);
                    return spoiled;
                })),
                14 => ($"n_head {value?.ToJsonString()}", p =>
                {
                    p.Header["__metadata__"]!["config"] = $"{{\"n_head\":{value?.ToJsonString() ?? "null"}}}";
                    return p.Bytes();
                }
                ),
                _ => ($"{name}: entry replaced by {value?.ToJsonString()}", p =>
                {
                    p.Header[name] = value?.DeepClone();
                    return p.Bytes();
                }
                ),
            });
        }

        var refused = 0;
        foreach (var (what, make) in mutations)
        {
            string? outcome;
            try
            {
                outcome = Outcome(make(valid.Copy()));
            }
            catch (Exception ex)
            {
                throw new Xunit.Sdk.XunitException($"{what}: threw {ex.GetType().Name}: {ex.Message}");
            }
            refused += outcome is null ? 0 : 1;
        }
        Assert.True(mutations.Count >= 250);
        // A byte flip inside a name or a truncation inside the unused tail can leave a file that still imports; the
        // rest must be refused.
        Assert.True(refused >= 200, $"only {refused} of {mutations.Count} malformed files were refused");
    }
}
