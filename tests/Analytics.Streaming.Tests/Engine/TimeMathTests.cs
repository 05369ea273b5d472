using System.Numerics;

namespace Analytics.Streaming.Tests.Engine;

/// <summary>The floored division that places every event time in its slice and window, against <see cref="BigInteger"/>.</summary>
public sealed class TimeMathTests
{
    [Fact]
    public void FloorDiv_RoundsTowardsNegativeInfinity_ForEverySignAndSize()
    {
        long[] edges = [0, 1, -1, 2, -2, 7, -7, 10_000_000, -10_000_000, long.MaxValue, long.MinValue, long.MaxValue - 1, long.MinValue + 1];
        var random = new Random(13);
        var values = edges.Concat(Enumerable.Range(0, 2_000).Select(_ => random.NextInt64(long.MinValue, long.MaxValue)))
            .Concat(Enumerable.Range(0, 2_000).Select(_ => random.NextInt64(-1_000_000, 1_000_000)));
        var divisors = edges.Where(d => d != 0).Concat(Enumerable.Range(0, 50).Select(_ => random.NextInt64(1, 100_000_000_000) * (random.Next(2) * 2 - 1)));
        foreach (long divisor in divisors)
        {
            foreach (long value in values)
            {
                if (value == long.MinValue && divisor == -1)
                {
                    continue; // the quotient does not fit
                }

                var quotient = BigInteger.DivRem(value, divisor, out var remainder);
                if (!remainder.IsZero && (remainder.Sign < 0) != (divisor < 0))
                {
                    quotient -= 1;
                }

                Assert.True((long)quotient == TimeMath.FloorDiv(value, divisor), $"{value} / {divisor}");
            }
        }
    }
}
