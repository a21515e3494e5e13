using System.Runtime.Intrinsics;
using Platform.ML;

namespace Platform.ML.Tests;

public class VectorExpTests
{
    /// <summary>Against double precision's exp, over a softmax's whole range: within 1 ulp of the correctly rounded
    /// value, exactly 1 at 0, and 0 below −87 and at −∞.</summary>
    [Fact]
    public void It_is_within_one_ulp_of_exp_from_minus_87_to_0_and_0_below()
    {
        var random = new Random(4);
        var xs = Enumerable.Range(0, 200_000).Select(_ => (float)(-87 * random.NextDouble()))
            .Concat([0f, -1e-8f, -0.34657359f, -0.34657362f, -1f, -10f, -86.999f]).ToArray();
        var worst = 0.0;
        for (var i = 0; i + 8 <= xs.Length; i += 8)
        {
            var e = VectorExp.NonPositive(Vector256.Create(xs.AsSpan(i, 8)));
            for (var lane = 0; lane < 8; lane++)
            {
                var exact = (float)Math.Exp(xs[i + lane]);
                var ulps = Math.Abs(e[lane] - exact) / (MathF.BitIncrement(exact) - exact);
                worst = Math.Max(worst, ulps);
            }
        }
        Assert.InRange(worst, 0, 1);
        Assert.Equal(1f, VectorExp.NonPositive(Vector256<float>.Zero)[0]);
        var below = VectorExp.NonPositive(Vector256.Create(float.NegativeInfinity, -87.01f, -100f, -1e30f,
            float.NegativeInfinity, -88f, -200f, -1000f));
        Assert.Equal(Vector256<float>.Zero, below);
    }
}
