namespace Analytics.Streaming.Parquet.Internal;

/// <summary>Converts <see cref="decimal"/> values to the unscaled integers of a DECIMAL(precision, scale) column.</summary>
internal static class DecimalConverter
{
    private static readonly Int128[] Powers = CreatePowers();

    public static Int128 Pow10(int exponent) => Powers[exponent];

    /// <summary>
    /// Returns the unscaled value, or a reason why <paramref name="value"/> does not fit: more fractional digits than
    /// the scale (other than trailing zeros) or more digits than the precision.
    /// </summary>
    public static bool TryUnscale(decimal value, int precision, int scale, out Int128 unscaled, out string? reason)
    {
        Span<int> bits = stackalloc int[4];
        decimal.GetBits(value, bits);
        var magnitude = ((Int128)(uint)bits[2] << 64) | ((Int128)(uint)bits[1] << 32) | (uint)bits[0];
        int valueScale = (bits[3] >> 16) & 0xFF;
        bool negative = bits[3] < 0;
        if (valueScale > scale)
        {
            var divisor = Powers[valueScale - scale];
            var (quotient, remainder) = Int128.DivRem(magnitude, divisor);
            if (remainder != 0)
            {
                unscaled = default;
                reason = $"value {value} has more than {scale} fractional digits; round it first or widen the scale of DECIMAL({precision},{scale}).";
                return false;
            }

            magnitude = quotient;
        }
        else if (valueScale < scale)
        {
            // Check before scaling up, so the product cannot overflow.
            if (magnitude >= Powers[precision - (scale - valueScale)])
            {
                unscaled = default;
                reason = $"value {value} has more than {precision - scale} integer digits and does not fit DECIMAL({precision},{scale}).";
                return false;
            }

            magnitude *= Powers[scale - valueScale];
        }

        if (magnitude >= Powers[precision])
        {
            unscaled = default;
            reason = $"value {value} has more than {precision} digits and does not fit DECIMAL({precision},{scale}).";
            return false;
        }

        unscaled = negative ? -magnitude : magnitude;
        reason = null;
        return true;
    }

    private static Int128[] CreatePowers()
    {
        var powers = new Int128[39];
        powers[0] = 1;
        for (int i = 1; i < powers.Length; i++)
        {
            powers[i] = powers[i - 1] * 10;
        }

        return powers;
    }
}
