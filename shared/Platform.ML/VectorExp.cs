using System.Runtime.Intrinsics;

namespace Platform.ML;

/// <summary>The exponential a softmax needs, eight lanes at a time.</summary>
public static class VectorExp
{
    private const float Lowest = -87f;

    /// <summary>
    /// eˣ for x ≤ 0 (a score less the row's largest), within 1 ulp: x = n·ln 2 + r with |r| ≤ ln 2 / 2 (ln 2 in two
    /// parts, so that r is exact), eʳ by Cephes' expf polynomial, and n added to the exponent. Below −87, −∞
    /// included, it is 0. It takes the place of <see cref="Vector256.Exp(Vector256{float})"/>, which a decoding step's
    /// attention spent most of its time in.
    /// </summary>
    public static Vector256<float> NonPositive(Vector256<float> x)
    {
        var underflow = Vector256.LessThan(x, Vector256.Create(Lowest));
        x = Vector256.Max(x, Vector256.Create(Lowest));
        var n = Vector256.Round(x * Vector256.Create(1.44269504088896341f));
        var r = Vector256.FusedMultiplyAdd(n, Vector256.Create(-0.693359375f), x);
        r = Vector256.FusedMultiplyAdd(n, Vector256.Create(2.12194440e-4f), r);
        var p = Vector256.Create(1.9875691500e-4f);
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1.3981999507e-3f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(8.3334519073e-3f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(4.1665795894e-2f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1.6666665459e-1f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(5.0000001201e-1f));
        p = Vector256.FusedMultiplyAdd(p, r * r, r + Vector256<float>.One);
        var scaled = (p.AsInt32() + (Vector256.ConvertToInt32(n) << 23)).AsSingle();
        return Vector256.AndNot(scaled, underflow);
    }
}
