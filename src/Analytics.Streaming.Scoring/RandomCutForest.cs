namespace Analytics.Streaming.Scoring;

/// <summary>Options of <see cref="RandomCutForest"/>; defaults follow the AWS random cut forest library.</summary>
public sealed class RandomCutForestOptions
{
    /// <summary>Gets or sets the number of values per input (required, 1 to 1000).</summary>
    public int Dimensions { get; set; }

    /// <summary>Gets or sets how many consecutive inputs form one point (default 1: no shingling).</summary>
    /// <remarks>With a shingle of s, each point is the last s inputs concatenated, so changes of shape over time are anomalies too.</remarks>
    public int ShingleSize { get; set; } = 1;

    /// <summary>Gets or sets the number of trees (default 100, as Kinesis Data Analytics used).</summary>
    public int TreeCount { get; set; } = 100;

    /// <summary>Gets or sets the points each tree samples (default 256).</summary>
    public int SampleSize { get; set; } = 256;

    /// <summary>
    /// Gets or sets the time decay lambda of the samplers (default <c>0.1 / SampleSize</c>, so a tree's sample spans
    /// roughly the last <c>10 SampleSize</c> points); 0 samples uniformly from the whole stream.
    /// </summary>
    public double? TimeDecay { get; set; }

    /// <summary>Gets or sets the points each tree must hold before scores are given (default <c>SampleSize / 4</c>).</summary>
    public int? OutputAfter { get; set; }

    /// <summary>Gets or sets the score from which a point is an anomaly (default 1.25; typical points score 0.7 to 1.0, see the package README for how it was chosen).</summary>
    public double AnomalyThreshold { get; set; } = 1.25;

    /// <summary>Gets or sets the seed; the same seed and inputs give the same scores (default 42).</summary>
    public ulong Seed { get; set; } = 42;
}

/// <summary>
/// A robust random cut forest for streams of multi-dimensional points, with shingling and per-dimension
/// attribution of each score: what Kinesis Data Analytics offered as <c>RANDOM_CUT_FOREST_WITH_EXPLANATION</c>.
/// </summary>
/// <remarks>
/// <para>
/// Each tree keeps a time-decayed reservoir sample of the points (Guha et al., 2016) and a random cut tree over it
/// whose cuts fall in each dimension in proportion to its range. A point's score in a tree is its expected isolation
/// depth relative to the points there: starting at the leaf where it would land with <c>1 / (depth + 1)</c> (or, for a
/// point already sampled, <c>(1 - m / 2M) / (depth + log2(1 + m))</c>), each node up to the root mixes in
/// <c>1 / (depth + 1)</c> with the probability that a random cut of the node's box extended by the point separates
/// the point; the result is multiplied by <c>log2(1 + M)</c> (M the tree's mass) and averaged over trees. Typical
/// points score about 1; isolated points score several times that. The attribution splits every separation
/// probability by dimension, so the attribution of a score adds up to the score; with shingling, the shingle
/// positions of each input dimension are added together.
/// </para>
/// <para>
/// <see cref="Update"/> scores a point against the forest and then offers it to every tree's sampler. All memory is
/// allocated in the constructor; an update allocates nothing and costs O(trees x depth x dimensions). Inputs with
/// NaN or infinities are <see cref="AnomalyStatus.Missing"/>: not scored, not learned, never thrown. Seeded and
/// reproducible. Not thread-safe: one forest per key or partition.
/// </para>
/// </remarks>
public sealed class RandomCutForest
{
    private readonly int _dimensions;
    private readonly int _shingleSize;
    private readonly int _pointDimensions;
    private readonly double _timeDecay;
    private readonly int _outputAfter;
    private readonly double _threshold;
    private readonly Tree[] _trees;
    private readonly double[] _shingle;
    private readonly double[] _point;
    private readonly double[] _attribution;
    private readonly double[] _treeAttribution;
    private readonly int[] _path;
    private ulong _random;
    private long _inputs;
    private long _time;

    /// <summary>Initializes a forest and validates the options.</summary>
    /// <param name="options">The options.</param>
    /// <exception cref="ArgumentException">An option is out of range; the message says which.</exception>
    public RandomCutForest(RandomCutForestOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Dimensions is < 1 or > 1000)
        {
            throw new ArgumentException("Dimensions must be between 1 and 1000: the number of values in each input.", nameof(options));
        }

        if (options.ShingleSize is < 1 or > 256 || (long)options.ShingleSize * options.Dimensions > 4096)
        {
            throw new ArgumentException("ShingleSize must be between 1 and 256, with ShingleSize x Dimensions at most 4096.", nameof(options));
        }

        if (options.TreeCount is < 1 or > 1000 || options.SampleSize is < 4 or > 65536)
        {
            throw new ArgumentException("TreeCount must be between 1 and 1000 (default 100) and SampleSize between 4 and 65536 (default 256).", nameof(options));
        }

        double decay = options.TimeDecay ?? (0.1 / options.SampleSize);
        if (!(decay >= 0) || double.IsInfinity(decay))
        {
            throw new ArgumentException("TimeDecay must be 0 or more (default 0.1 / SampleSize).", nameof(options));
        }

        int outputAfter = options.OutputAfter ?? Math.Max(1, options.SampleSize / 4);
        if (outputAfter < 1 || outputAfter > options.SampleSize)
        {
            throw new ArgumentException("OutputAfter must be between 1 and SampleSize (default SampleSize / 4).", nameof(options));
        }

        if (!(options.AnomalyThreshold > 0) || double.IsInfinity(options.AnomalyThreshold))
        {
            throw new ArgumentException("AnomalyThreshold must be positive (default 1.25).", nameof(options));
        }

        _dimensions = options.Dimensions;
        _shingleSize = options.ShingleSize;
        _pointDimensions = _dimensions * _shingleSize;
        _timeDecay = decay;
        _outputAfter = outputAfter;
        _threshold = options.AnomalyThreshold;
        _random = options.Seed;
        _trees = new Tree[options.TreeCount];
        for (int i = 0; i < _trees.Length; i++)
        {
            _trees[i] = new Tree(_pointDimensions, options.SampleSize);
        }

        _shingle = new double[_pointDimensions];
        _point = new double[_pointDimensions];
        _attribution = new double[_pointDimensions];
        _treeAttribution = new double[_pointDimensions];
        _path = new int[options.SampleSize + 2];
    }

    /// <summary>Gets the number of values per input.</summary>
    public int Dimensions => _dimensions;

    /// <summary>Gets the shingle size.</summary>
    public int ShingleSize => _shingleSize;

    /// <summary>Gets the anomaly threshold.</summary>
    public double AnomalyThreshold => _threshold;

    /// <summary>Gets the number of inputs accepted (inputs with NaN excluded).</summary>
    public long InputCount => _inputs;

    /// <summary>Scores an input against the forest, then learns it.</summary>
    /// <param name="values">The input, <see cref="Dimensions"/> values.</param>
    /// <param name="attribution">When at least <see cref="Dimensions"/> long, receives each input dimension's share of the score (they add up to the score); zeros when not scored.</param>
    /// <returns>The score, the anomaly flag and the status.</returns>
    /// <exception cref="ArgumentException"><paramref name="values"/> does not have <see cref="Dimensions"/> values (a programming error, not bad data).</exception>
    public AnomalyResult Update(ReadOnlySpan<double> values, Span<double> attribution = default)
    {
        if (values.Length != _dimensions)
        {
            throw new ArgumentException($"Pass exactly {_dimensions} values per input.", nameof(values));
        }

        bool explain = attribution.Length >= _dimensions;
        if (explain)
        {
            attribution.Slice(0, _dimensions).Clear();
        }

        foreach (double v in values)
        {
            if (!double.IsFinite(v))
            {
                return new AnomalyResult(0, false, AnomalyStatus.Missing);
            }
        }

        // Shift the shingle left by one input and append the new one (oldest input first).
        Array.Copy(_shingle, _dimensions, _shingle, 0, _pointDimensions - _dimensions);
        values.CopyTo(_shingle.AsSpan(_pointDimensions - _dimensions));
        _inputs++;
        if (_inputs < _shingleSize)
        {
            return new AnomalyResult(0, false, AnomalyStatus.WarmingUp);
        }

        _shingle.AsSpan().CopyTo(_point);
        _time++;
        AnomalyResult result;
        if (_trees[0].SampleCount < _outputAfter)
        {
            result = new AnomalyResult(0, false, AnomalyStatus.WarmingUp);
        }
        else
        {
            double score = Score(explain);
            if (explain)
            {
                for (int j = 0; j < _pointDimensions; j++)
                {
                    attribution[j % _dimensions] += _attribution[j];
                }
            }

            result = new AnomalyResult(score, score >= _threshold, AnomalyStatus.Scored);
        }

        foreach (Tree tree in _trees)
        {
            double weight = (-_timeDecay * _time) + Math.Log(-Math.Log(NextOpenUnit()));
            tree.Offer(_point, weight, ref _random);
        }

        return result;
    }

    private double Score(bool explain)
    {
        double total = 0;
        if (explain)
        {
            Array.Clear(_attribution);
        }

        foreach (Tree tree in _trees)
        {
            total += tree.Score(_point, _path, explain ? _treeAttribution : null);
            if (explain)
            {
                for (int j = 0; j < _pointDimensions; j++)
                {
                    _attribution[j] += _treeAttribution[j];
                }
            }
        }

        double count = _trees.Length;
        if (explain)
        {
            for (int j = 0; j < _pointDimensions; j++)
            {
                _attribution[j] /= count;
            }
        }

        return total / count;
    }

    private double NextOpenUnit() => ((NextUInt64(ref _random) >> 11) + 0.5) * (1.0 / (1UL << 53));

    private static ulong NextUInt64(ref ulong state)
    {
        ulong z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private static double NextUnit(ref ulong state) => (NextUInt64(ref state) >> 11) * (1.0 / (1UL << 53));

    /// <summary>One random cut tree over a time-decayed sample, in flat arrays.</summary>
    private sealed class Tree
    {
        private readonly int _d;
        private readonly int _capacity;
        private readonly int[] _left;
        private readonly int[] _right;
        private readonly int[] _parent;
        private readonly int[] _cutDimension;
        private readonly double[] _cutValue;
        private readonly int[] _mass;
        private readonly bool[] _isLeaf;
        private readonly double[] _min;
        private readonly double[] _max;
        private readonly int[] _free;
        private readonly double[] _heapWeight;
        private readonly int[] _heapLeaf;
        private int _freeCount;
        private int _heapCount;
        private int _root = -1;

        public Tree(int dimensions, int sampleSize)
        {
            _d = dimensions;
            _capacity = sampleSize;
            int nodes = 2 * sampleSize;
            _left = new int[nodes];
            _right = new int[nodes];
            _parent = new int[nodes];
            _cutDimension = new int[nodes];
            _cutValue = new double[nodes];
            _mass = new int[nodes];
            _isLeaf = new bool[nodes];
            _min = new double[nodes * dimensions];
            _max = new double[nodes * dimensions];
            _free = new int[nodes];
            for (int i = 0; i < nodes; i++)
            {
                _free[i] = nodes - 1 - i;
            }

            _freeCount = nodes;
            _heapWeight = new double[sampleSize];
            _heapLeaf = new int[sampleSize];
        }

        public int SampleCount => _heapCount;

        public void Offer(double[] point, double weight, ref ulong random)
        {
            if (_heapCount < _capacity)
            {
                int leaf = Insert(point, ref random);
                int i = _heapCount++;
                _heapWeight[i] = weight;
                _heapLeaf[i] = leaf;
                SiftUp(i);
                return;
            }

            if (weight >= _heapWeight[0])
            {
                return;
            }

            Delete(_heapLeaf[0]);
            _heapLeaf[0] = Insert(point, ref random);
            _heapWeight[0] = weight;
            SiftDown(0);
        }

        public double Score(double[] p, int[] path, double[]? attribution)
        {
            int node = _root;
            int depth = 0;
            while (!_isLeaf[node])
            {
                path[depth++] = node;
                node = p[_cutDimension[node]] <= _cutValue[node] ? _left[node] : _right[node];
            }

            double treeMass = _mass[_root];
            double score;
            int leafBase = node * _d;
            double distance = 0;
            for (int k = 0; k < _d; k++)
            {
                distance += Math.Abs(p[k] - _min[leafBase + k]);
            }

            if (distance == 0)
            {
                double leafMass = _mass[node];
                score = (1 - (leafMass / (2 * treeMass))) / (depth + Math.Log2(1 + leafMass));
                if (attribution is not null)
                {
                    Array.Fill(attribution, score / _d);
                }
            }
            else
            {
                score = 1.0 / (depth + 1);
                if (attribution is not null)
                {
                    for (int k = 0; k < _d; k++)
                    {
                        attribution[k] = score * Math.Abs(p[k] - _min[leafBase + k]) / distance;
                    }
                }
            }

            for (int level = depth - 1; level >= 0; level--)
            {
                int n = path[level];
                int b = n * _d;
                double span = 0;
                double gap = 0;
                for (int k = 0; k < _d; k++)
                {
                    double lo = _min[b + k];
                    double hi = _max[b + k];
                    double x = p[k];
                    double g = x < lo ? lo - x : (x > hi ? x - hi : 0);
                    gap += g;
                    span += hi - lo + g;
                }

                if (gap <= 0 || span <= 0)
                {
                    continue;
                }

                double unseen = 1.0 / (level + 1);
                double probability = gap / span;
                score = ((1 - probability) * score) + (probability * unseen);
                if (attribution is not null)
                {
                    for (int k = 0; k < _d; k++)
                    {
                        double lo = _min[b + k];
                        double hi = _max[b + k];
                        double x = p[k];
                        double g = x < lo ? lo - x : (x > hi ? x - hi : 0);
                        attribution[k] = ((1 - probability) * attribution[k]) + (g / span * unseen);
                    }
                }
            }

            double normalizer = Math.Log2(1 + treeMass);
            if (attribution is not null)
            {
                for (int k = 0; k < _d; k++)
                {
                    attribution[k] *= normalizer;
                }
            }

            return score * normalizer;
        }

        private int Insert(double[] p, ref ulong random)
        {
            if (_root < 0)
            {
                _root = NewLeaf(p);
                _parent[_root] = -1;
                return _root;
            }

            int node = _root;
            while (true)
            {
                int b = node * _d;
                if (_isLeaf[node] && p.AsSpan().SequenceEqual(_min.AsSpan(b, _d)))
                {
                    for (int a = node; a >= 0; a = _parent[a])
                    {
                        _mass[a]++;
                    }

                    return node;
                }

                double span = 0;
                for (int k = 0; k < _d; k++)
                {
                    span += Math.Max(_max[b + k], p[k]) - Math.Min(_min[b + k], p[k]);
                }

                double r = NextUnit(ref random) * span;
                int dimension = -1;
                double cut = 0;
                int lastPositive = -1;
                for (int k = 0; k < _d; k++)
                {
                    double lo = Math.Min(_min[b + k], p[k]);
                    double range = Math.Max(_max[b + k], p[k]) - lo;
                    if (range <= 0)
                    {
                        continue;
                    }

                    lastPositive = k;
                    if (r < range)
                    {
                        dimension = k;
                        cut = lo + r;
                        break;
                    }

                    r -= range;
                }

                if (dimension < 0)
                {
                    dimension = lastPositive;
                    cut = Math.Min(_min[b + dimension], p[dimension]);
                }

                double boxLo = _min[b + dimension];
                double boxHi = _max[b + dimension];
                double x = p[dimension];
                bool separated = (x <= cut && cut < boxLo) || (boxHi <= cut && cut < x);
                if (!separated && _isLeaf[node])
                {
                    cut = Math.Min(boxLo, x);
                    separated = true;
                }

                if (!separated)
                {
                    node = p[_cutDimension[node]] <= _cutValue[node] ? _left[node] : _right[node];
                    continue;
                }

                int leaf = NewLeaf(p);
                int inner = Take();
                _isLeaf[inner] = false;
                _cutDimension[inner] = dimension;
                _cutValue[inner] = cut;
                if (x <= cut)
                {
                    _left[inner] = leaf;
                    _right[inner] = node;
                }
                else
                {
                    _left[inner] = node;
                    _right[inner] = leaf;
                }

                int parent = _parent[node];
                _parent[inner] = parent;
                if (parent < 0)
                {
                    _root = inner;
                }
                else if (_left[parent] == node)
                {
                    _left[parent] = inner;
                }
                else
                {
                    _right[parent] = inner;
                }

                _parent[node] = inner;
                _parent[leaf] = inner;
                _mass[inner] = _mass[node] + 1;
                int ib = inner * _d;
                for (int k = 0; k < _d; k++)
                {
                    _min[ib + k] = Math.Min(_min[b + k], p[k]);
                    _max[ib + k] = Math.Max(_max[b + k], p[k]);
                }

                for (int a = parent; a >= 0; a = _parent[a])
                {
                    _mass[a]++;
                    int ab = a * _d;
                    for (int k = 0; k < _d; k++)
                    {
                        if (p[k] < _min[ab + k])
                        {
                            _min[ab + k] = p[k];
                        }

                        if (p[k] > _max[ab + k])
                        {
                            _max[ab + k] = p[k];
                        }
                    }
                }

                return leaf;
            }
        }

        private void Delete(int leaf)
        {
            if (_mass[leaf] > 1)
            {
                for (int a = leaf; a >= 0; a = _parent[a])
                {
                    _mass[a]--;
                }

                return;
            }

            int parent = _parent[leaf];
            Release(leaf);
            if (parent < 0)
            {
                _root = -1;
                return;
            }

            int sibling = _left[parent] == leaf ? _right[parent] : _left[parent];
            int grand = _parent[parent];
            _parent[sibling] = grand;
            if (grand < 0)
            {
                _root = sibling;
            }
            else if (_left[grand] == parent)
            {
                _left[grand] = sibling;
            }
            else
            {
                _right[grand] = sibling;
            }

            Release(parent);
            for (int a = grand; a >= 0; a = _parent[a])
            {
                _mass[a]--;
                int ab = a * _d;
                int lb = _left[a] * _d;
                int rb = _right[a] * _d;
                for (int k = 0; k < _d; k++)
                {
                    _min[ab + k] = Math.Min(_min[lb + k], _min[rb + k]);
                    _max[ab + k] = Math.Max(_max[lb + k], _max[rb + k]);
                }
            }
        }

        private int NewLeaf(double[] p)
        {
            int leaf = Take();
            _isLeaf[leaf] = true;
            _mass[leaf] = 1;
            p.AsSpan().CopyTo(_min.AsSpan(leaf * _d, _d));
            p.AsSpan().CopyTo(_max.AsSpan(leaf * _d, _d));
            return leaf;
        }

        private int Take() => _free[--_freeCount];

        private void Release(int node) => _free[_freeCount++] = node;

        private void SiftUp(int i)
        {
            while (i > 0)
            {
                int parent = (i - 1) >> 1;
                if (_heapWeight[parent] >= _heapWeight[i])
                {
                    return;
                }

                SwapHeap(i, parent);
                i = parent;
            }
        }

        private void SiftDown(int i)
        {
            while (true)
            {
                int left = (2 * i) + 1;
                if (left >= _heapCount)
                {
                    return;
                }

                int largest = left;
                if (left + 1 < _heapCount && _heapWeight[left + 1] > _heapWeight[left])
                {
                    largest = left + 1;
                }

                if (_heapWeight[largest] <= _heapWeight[i])
                {
                    return;
                }

                SwapHeap(i, largest);
                i = largest;
            }
        }

        private void SwapHeap(int a, int b)
        {
            (_heapWeight[a], _heapWeight[b]) = (_heapWeight[b], _heapWeight[a]);
            (_heapLeaf[a], _heapLeaf[b]) = (_heapLeaf[b], _heapLeaf[a]);
        }
    }
}
