using System.Security.Cryptography;
using System.Text;
using Gateway.Idempotency;

namespace Platform.Services.Tests;

public sealed class BoundaryNormaliserTests
{
    private static string Body(string boundary) =>
        $"--{boundary}\r\nContent-Disposition: form-data; " +
        $"name=\"name\"\r\n\r\ncorpus\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; " +
        $"filename=\"a.txt\"\r\n\r\n" +
        $"text with --a1b2c, a boundary's start, in it\r\n--{boundary}--\r\n";

    private static string Hash(string body, string boundary, params int[] splits)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var normaliser = new BoundaryNormaliser(boundary);
        var bytes = Encoding.ASCII.GetBytes(body);
        var at = 0;
        foreach (var split in splits.Append(bytes.Length))
        {
            normaliser.Append(bytes.AsSpan(at, split - at), hash);
            at = split;
        }
        normaliser.Flush(hash);
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    [Fact]
    public void A_body_hashes_as_with_its_boundary_replaced_however_it_is_split_into_reads()
    {
        const string boundary = "a1b2c3d4e5f6";
        var body = Body(boundary);
        // Oracle: the whole body with the boundary replaced by hand, hashed at once.
        var expected = Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(body.Replace($"--{boundary}",
            "--platform-boundary"))));
        for (var split = 0; split <= body.Length; split++)
            Assert.Equal(expected, Hash(body, boundary, split));
        Assert.Equal(expected, Hash(body, boundary, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89));
        // A retry with a fresh boundary is the same request; another file is not.
        Assert.Equal(expected, Hash(Body("zz99yy88xx77"), "zz99yy88xx77", 7));
        Assert.NotEqual(expected, Hash(Body(boundary).Replace("corpus", "corpuz"), boundary));
    }
}
