using System.Buffers;
using System.Runtime.CompilerServices;

namespace Analytics.Streaming.Parquet.Internal;

/// <summary>
/// The growable arrays of a writer (page and chunk buffers, levels, values, dictionary indices) come from
/// <see cref="ArrayPool{T}.Shared"/> and go back when the writer is disposed, so a process that writes file after
/// file (a sink rolling objects) reuses them instead of allocating every buffer again for every file.
/// </summary>
internal static class Pooled
{
    /// <summary>Rents an array of at least <paramref name="length"/> elements (an empty one for 0).</summary>
    public static T[] Rent<T>(int length) => length == 0 ? [] : ArrayPool<T>.Shared.Rent(length);

    /// <summary>Replaces <paramref name="array"/> by one at least twice as long (and at least <paramref name="minLength"/>), keeping its first <paramref name="used"/> elements.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Grow<T>(ref T[] array, int used, long minLength)
    {
        long wanted = Math.Max((long)array.Length * 2, minLength);
        if (wanted > Array.MaxLength)
        {
            wanted = minLength;
            if (wanted > Array.MaxLength)
            {
                throw new InvalidOperationException("A Parquet page or column chunk grew beyond 2 GiB; lower RowGroupSize or PageSize.");
            }
        }

        var next = ArrayPool<T>.Shared.Rent((int)wanted);
        array.AsSpan(0, used).CopyTo(next);
        Return(ref array);
        array = next;
    }

    /// <summary>Returns <paramref name="array"/> to the pool (references cleared) and leaves an empty array in its place.</summary>
    public static void Return<T>(ref T[] array)
    {
        if (array.Length != 0)
        {
            ArrayPool<T>.Shared.Return(array, clearArray: RuntimeHelpers.IsReferenceOrContainsReferences<T>());
        }

        array = [];
    }
}
