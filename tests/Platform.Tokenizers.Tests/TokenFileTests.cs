using Platform.Tokenizers;

namespace Platform.Tokenizers.Tests;

public class TokenFileTests
{
    [Theory]
    [InlineData(65, TokenDType.UInt16, 65535)]
    [InlineData(70000, TokenDType.UInt32, 69999)]
    public void Ids_written_are_the_ids_read_back(int vocab, TokenDType expected, int largestId)
    {
        Assert.Equal(expected, TokenFileInfo.DTypeFor(vocab));
        var path = Path.GetTempFileName();
        try
        {
            int[] ids = [0, 1, largestId, 42, 7];
            using (var stream = File.Create(path))
            using (var writer = new TokenFileWriter(stream, expected))
            {
                writer.Write(ids.AsSpan(0, 2));
                writer.Write(ids.AsSpan(2));
                writer.Flush();
                Assert.Equal(5, writer.Count);
            }
            using (var sidecar = File.Create(TokenFileInfo.SidecarPath(path)))
                new TokenFileInfo(expected, ids.Length, vocab, Guid.NewGuid()).Write(sidecar);
            Assert.Equal(ids.Length * (expected == TokenDType.UInt16 ? 2 : 4), new FileInfo(path).Length);
            Assert.Equal(ids, TokenFile.ReadAll(path));
        }
        finally
        {
            File.Delete(path);
            File.Delete(TokenFileInfo.SidecarPath(path));
        }
    }

    [Fact]
    public void A_file_that_disagrees_with_its_sidecar_is_rejected()
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(path, new byte[6]);
            using (var sidecar = File.Create(TokenFileInfo.SidecarPath(path)))
                new TokenFileInfo(TokenDType.UInt16, 4, 10, Guid.NewGuid()).Write(sidecar);
            Assert.Throws<InvalidDataException>(() => TokenFile.ReadAll(path));
        }
        finally
        {
            File.Delete(path);
            File.Delete(TokenFileInfo.SidecarPath(path));
        }
    }
}
