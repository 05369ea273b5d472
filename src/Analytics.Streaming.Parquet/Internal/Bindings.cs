using System.Runtime.CompilerServices;

namespace Analytics.Streaming.Parquet.Internal;

/// <summary>
/// Binds a top-level field of a record to its leaves for one writer. A row is written in two phases so a bad record
/// leaves no trace: <see cref="Stage"/> runs the user's accessor and validates (may throw), <see cref="Commit"/>
/// appends the staged value (runs no user code and cannot fail on data).
/// </summary>
internal abstract class ColumnBinding<T>
{
    protected ColumnBinding(string column) => Column = column;

    public string Column { get; }

    public abstract void Stage(T record, long row);

    public abstract void Commit();

    protected ParquetValueException Reject(long row, string reason) => new(Column, row, reason);
}

/// <summary>A flat column (REQUIRED or OPTIONAL primitive).</summary>
internal sealed class ScalarBinding<T, TValue> : ColumnBinding<T>
{
    private readonly Func<T, TValue> _get;
    private readonly ElementWriter<TValue> _writer;
    private readonly LeafColumn _leaf;
    private readonly int _maxDefinition;
    private readonly bool _canReject;
    private TValue _pending = default!;

    public ScalarBinding(string column, Func<T, TValue> get, ElementWriter<TValue> writer)
        : base(column)
    {
        _get = get;
        _writer = writer;
        _leaf = writer.Leaf;
        _maxDefinition = _leaf.Descriptor.MaxDefinitionLevel;
        _canReject = writer.CanReject;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public override void Stage(T record, long row)
    {
        var value = _get(record);
        if (_canReject && _writer.Check(value) is string reason)
        {
            throw Reject(row, reason);
        }

        _pending = value;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public override void Commit()
    {
        _writer.Add(_pending, 0, _maxDefinition);
        if (RuntimeHelpers.IsReferenceOrContainsReferences<TValue>())
        {
            _pending = default!;
        }

        _leaf.EndRow();
    }
}

/// <summary>A LIST column: <c>name / list (repeated) / element</c>.</summary>
internal sealed class ListBinding<T, TElement> : ColumnBinding<T>
{
    private readonly Func<T, IReadOnlyList<TElement>?> _get;
    private readonly ElementWriter<TElement> _writer;
    private readonly LeafColumn _leaf;
    private readonly bool _nullable;
    private readonly int _maxDefinition;
    private TElement[] _scratch = new TElement[16];
    private int _count;
    private bool _isNull;

    public ListBinding(string column, Func<T, IReadOnlyList<TElement>?> get, ElementWriter<TElement> writer, bool nullable)
        : base(column)
    {
        _get = get;
        _writer = writer;
        _leaf = writer.Leaf;
        _nullable = nullable;
        _maxDefinition = _leaf.Descriptor.MaxDefinitionLevel;
    }

    public override void Stage(T record, long row)
    {
        var list = _get(record);
        if (list is null)
        {
            if (!_nullable)
            {
                throw Reject(row, "holds a null list but the column is REQUIRED; make it nullable or supply an empty list.");
            }

            _isNull = true;
            _count = 0;
            return;
        }

        int count = list.Count;
        if (count > _scratch.Length)
        {
            _scratch = new TElement[Math.Max(count, _scratch.Length * 2)];
        }

        for (int i = 0; i < count; i++)
        {
            var value = list[i];
            if (_writer.Check(value) is string reason)
            {
                Array.Clear(_scratch, 0, i);
                throw Reject(row, $"element {i} {reason}");
            }

            _scratch[i] = value;
        }

        _isNull = false;
        _count = count;
    }

    public override void Commit()
    {
        if (_isNull)
        {
            _leaf.AddNull(0, 0);
        }
        else if (_count == 0)
        {
            _leaf.AddNull(0, _nullable ? 1 : 0);
        }
        else
        {
            for (int i = 0; i < _count; i++)
            {
                _writer.Add(_scratch[i], i == 0 ? 0 : 1, _maxDefinition);
            }

            if (RuntimeHelpers.IsReferenceOrContainsReferences<TElement>())
            {
                Array.Clear(_scratch, 0, _count);
            }
        }

        _leaf.EndRow();
    }
}

/// <summary>A MAP column: <c>name / key_value (repeated) / key, value</c>.</summary>
internal sealed class MapBinding<T, TKey, TValue> : ColumnBinding<T>
{
    private readonly Func<T, IReadOnlyDictionary<TKey, TValue>?> _get;
    private readonly ElementWriter<TKey> _keys;
    private readonly ElementWriter<TValue> _values;
    private readonly bool _nullable;
    private readonly int _keyMaxDefinition;
    private readonly int _valueMaxDefinition;
    private TKey[] _keyScratch = new TKey[16];
    private TValue[] _valueScratch = new TValue[16];
    private int _count;
    private bool _isNull;

    public MapBinding(string column, Func<T, IReadOnlyDictionary<TKey, TValue>?> get, ElementWriter<TKey> keys, ElementWriter<TValue> values, bool nullable)
        : base(column)
    {
        _get = get;
        _keys = keys;
        _values = values;
        _nullable = nullable;
        _keyMaxDefinition = keys.Leaf.Descriptor.MaxDefinitionLevel;
        _valueMaxDefinition = values.Leaf.Descriptor.MaxDefinitionLevel;
    }

    public override void Stage(T record, long row)
    {
        var map = _get(record);
        if (map is null)
        {
            if (!_nullable)
            {
                throw Reject(row, "holds a null map but the column is REQUIRED; make it nullable or supply an empty map.");
            }

            _isNull = true;
            _count = 0;
            return;
        }

        int count = map.Count;
        if (count > _keyScratch.Length)
        {
            _keyScratch = new TKey[Math.Max(count, _keyScratch.Length * 2)];
            _valueScratch = new TValue[_keyScratch.Length];
        }

        int i = 0;
        foreach (var (key, value) in map)
        {
            if (i == _keyScratch.Length)
            {
                throw Reject(row, "holds a map that changed while it was read.");
            }

            if (_keys.Check(key) is string keyReason)
            {
                throw Reject(row, $"key {i} {keyReason}");
            }

            if (_values.Check(value) is string valueReason)
            {
                throw Reject(row, $"value of key '{key}' {valueReason}");
            }

            _keyScratch[i] = key;
            _valueScratch[i] = value;
            i++;
        }

        _isNull = false;
        _count = i;
    }

    public override void Commit()
    {
        var keyLeaf = _keys.Leaf;
        var valueLeaf = _values.Leaf;
        if (_isNull)
        {
            keyLeaf.AddNull(0, 0);
            valueLeaf.AddNull(0, 0);
        }
        else if (_count == 0)
        {
            int empty = _nullable ? 1 : 0;
            keyLeaf.AddNull(0, empty);
            valueLeaf.AddNull(0, empty);
        }
        else
        {
            for (int i = 0; i < _count; i++)
            {
                int repetition = i == 0 ? 0 : 1;
                _keys.Add(_keyScratch[i], repetition, _keyMaxDefinition);
                _values.Add(_valueScratch[i], repetition, _valueMaxDefinition);
            }

            Array.Clear(_keyScratch, 0, _count);
            Array.Clear(_valueScratch, 0, _count);
        }

        keyLeaf.EndRow();
        valueLeaf.EndRow();
    }
}
