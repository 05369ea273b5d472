namespace Analytics.Streaming.Tests.Engine;

/// <summary>The engines' key table against <see cref="Dictionary{TKey, TValue}"/> as the model.</summary>
public sealed class KeyTableTests
{
    [Theory]
    [InlineData(1, 50)]
    [InlineData(2, 5_000)]
    [InlineData(3, 200_000)]
    public void RandomAddsRemovesAndWalks_MatchADictionary(int seed, int keyRange)
    {
        var random = new Random(seed);
        var table = new KeyTable<int, long>();
        var model = new Dictionary<int, long>();
        for (int step = 0; step < 100_000; step++)
        {
            int key = random.Next(keyRange) * (step % 3 == 0 ? 1 << 16 : 1); // also keys that differ only in high bits
            switch (random.Next(10))
            {
                case < 6:
                    ref long value = ref table.GetValueRefOrAddDefault(key, out bool exists);
                    Assert.Equal(model.ContainsKey(key), exists);
                    value += step;
                    model[key] = model.GetValueOrDefault(key) + step;
                    break;
                case < 8:
                    Assert.Equal(model.Remove(key), table.Remove(key));
                    break;
                default:
                    ref long found = ref table.GetValueRefOrNullRef(key);
                    Assert.Equal(model.TryGetValue(key, out long expected), !System.Runtime.CompilerServices.Unsafe.IsNullRef(ref found));
                    if (model.ContainsKey(key))
                    {
                        Assert.Equal(expected, found);
                    }

                    break;
            }

            if (step % 25_000 == 24_999)
            {
                // A walk that removes about half of the entries as it goes, as the engines' window close does: one
                // by one, or vacated and unlinked in one pass after the walk.
                bool vacate = step % 50_000 == 49_999;
                for (int index = 0; index < table.Extent; index++)
                {
                    if (table.IsLive(index) && (table.ValueAt(index) & 1) == 0)
                    {
                        Assert.True(model.Remove(table.KeyAt(index)));
                        if (vacate)
                        {
                            table.Vacate(index);
                        }
                        else
                        {
                            table.RemoveAt(index);
                        }
                    }
                }

                table.UnlinkVacated();
                AssertSame(model, table);
            }

            if (step % 10_000 == 9_999)
            {
                // Room made ahead, as a restore does, with free and live entries in the table.
                table.EnsureCapacity(table.Count + random.Next(keyRange));
                AssertSame(model, table);
            }
        }

        AssertSame(model, table);
    }

    [Fact]
    public void EnsureCapacity_ThenAddingThatManyKeys_AllocatesNothing()
    {
        const int Keys = 100_000;
        var table = new KeyTable<long, long>();
        table.GetValueRefOrAddDefault(-1, out _) = -1;
        table.GetValueRefOrAddDefault(-2, out _) = -2;
        table.Remove(-2);
        table.EnsureCapacity(table.Count + Keys);

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (long key = 0; key < Keys; key++)
        {
            table.GetValueRefOrAddDefault(key, out _) = key * 3;
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(Keys + 1, table.Count);
        Assert.Equal(-1, table.GetValueRefOrNullRef(-1));
        Assert.True(System.Runtime.CompilerServices.Unsafe.IsNullRef(ref table.GetValueRefOrNullRef(-2)));
        for (long key = 0; key < Keys; key++)
        {
            Assert.Equal(key * 3, table.GetValueRefOrNullRef(key));
        }
    }

    [Fact]
    public void Walk_GivesTheOrderOfInsertion_AndReusesFreedPlacesFirst()
    {
        var table = new KeyTable<string, int>();
        foreach (string key in (string[])["a", "b", "c", "d"])
        {
            table.GetValueRefOrAddDefault(key, out _) = key[0];
        }

        table.Remove("b");
        table.GetValueRefOrAddDefault("e", out _) = 'e';

        Assert.Equal(["a", "e", "c", "d"], Walk(table).Select(e => e.Key));
        Assert.Equal(4, table.Count);
    }

    [Fact]
    public void StringKeys_ManyAndAfterGrowth_AreFoundByValueNotReference()
    {
        var table = new KeyTable<string, int>();
        for (int i = 0; i < 10_000; i++)
        {
            table.GetValueRefOrAddDefault($"https://example.com/page/{i}", out _) = i;
        }

        for (int i = 0; i < 10_000; i++)
        {
            Assert.Equal(i, table.GetValueRefOrNullRef(new string($"https://example.com/page/{i}".AsSpan())));
        }

        Assert.True(System.Runtime.CompilerServices.Unsafe.IsNullRef(ref table.GetValueRefOrNullRef("https://example.com/page/x")));
    }

    private static void AssertSame(Dictionary<int, long> model, KeyTable<int, long> table)
    {
        Assert.Equal(model.Count, table.Count);
        var walked = Walk(table).ToList();
        Assert.Equal(model.Count, walked.Count);
        Assert.All(walked, e => Assert.Equal(model[e.Key], e.Value));
    }

    private static IEnumerable<(TKey Key, TValue Value)> Walk<TKey, TValue>(KeyTable<TKey, TValue> table)
        where TKey : notnull
    {
        var entries = new List<(TKey, TValue)>();
        for (int index = 0; index < table.Extent; index++)
        {
            if (table.IsLive(index))
            {
                entries.Add((table.KeyAt(index), table.ValueAt(index)));
            }
        }

        return entries;
    }
}
