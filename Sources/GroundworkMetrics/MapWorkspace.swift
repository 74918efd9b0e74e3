/// The target of one question on the model's grid: a weight in [0, 1] per cell, row-major.
///
/// Under the `overlap` cell rule (the study's, the default) a cell's weight is 1 when the
/// target overlaps it with positive area and 0 otherwise; under `coverage` it is the fraction
/// of the cell the target covers. `pointing` marks the cells that count as a hit for the
/// pointing game: the cells with positive weight, plus, with a tolerance, every cell whose
/// centre lies within the tolerance of the target.
public struct TargetCells: Sendable, Hashable {
    /// Grid rows.
    public let rows: Int
    /// Grid columns.
    public let cols: Int
    /// One weight per cell, row-major.
    public let weights: [Double]
    /// Cells that count as a hit for the pointing game.
    public let pointing: [Bool]
    /// Σ w: the target's size in cells (|G| under `overlap`).
    public let totalWeight: Double
    /// The number of cells with positive weight (|G| under `overlap`).
    public let supportCount: Int

    /// A target from per-cell weights; `pointing` defaults to the cells with positive weight.
    /// Weights are clamped to [0, 1].
    public init(rows: Int, cols: Int, weights: [Double], pointing: [Bool]? = nil) {
        precondition(weights.count == rows * cols, "one weight per cell")
        self.rows = rows
        self.cols = cols
        let clamped = weights.map { $0.isNaN ? 0 : Swift.min(1, Swift.max(0, $0)) }
        self.weights = clamped
        self.pointing = pointing ?? clamped.map { $0 > 0 }
        var total = 0.0
        var support = 0
        for w in clamped where w > 0 {
            total += w
            support += 1
        }
        totalWeight = total
        supportCount = support
    }

    /// A binary target: the listed cells (row-major indices) have weight 1.
    public init(rows: Int, cols: Int, cells: [Int]) {
        var weights = [Double](repeating: 0, count: rows * cols)
        for cell in cells where cell >= 0 && cell < weights.count { weights[cell] = 1 }
        self.init(rows: rows, cols: cols, weights: weights)
    }

    /// Cells in the grid.
    public var count: Int { rows * cols }
    /// Whether every weight is 0 or 1.
    public var isBinary: Bool { weights.allSatisfy { $0 == 0 || $0 == 1 } }
}

/// One map being scored, with the statistics that several metrics share, computed once.
///
/// The COCOeval style: the scorer loads a map (`load`), every metric reads what it needs from
/// here, and the expensive shared work (one sort of the cells) is done at most once per map.
/// A workspace is reused from map to map by one thread; it is not thread-safe.
///
/// Conventions shared by every metric:
/// - **Map.** a is the map of one layer (one head, or the mean over heads), one value per grid
///   cell, row-major; N is the number of cells.
/// - **Target.** w_i ∈ [0, 1] is cell i's target weight (`TargetCells`); G = {i : w_i > 0}.
///   Under the `overlap` rule w_i ∈ {0, 1} and every formula reduces to its binary form.
/// - **Relative map.** With a baseline map b (same layer and head), ã_i = a_i / max(b_i, ε),
///   ε = `MapWorkspace.epsilon` = 1e-8; without one, ã = a. Only the VGMED metrics (attention
///   ratio, KL, JS) read ã; the others read a.
/// - **Non-finite maps.** A NaN or ±∞ cell (in a or b) is an error for the question, naming the
///   layer, head and cell; it never reaches a metric.
/// - **Empty maps** (no cells) and targets covering no cell are errors for the question.
/// - **Negative, constant and all-zero maps** are legal; each metric states its outcome.
public final class MapWorkspace {
    /// ε of the relative map: ã = a / max(b, ε).
    public static let epsilon = 1e-8

    /// The raw map a.
    public private(set) var values: UnsafeMutableBufferPointer<Double>
    /// The relative map ã (the same cells as a when there is no baseline).
    public private(set) var relative: UnsafeMutableBufferPointer<Double>
    /// The target.
    public private(set) var target: TargetCells
    /// The target's weights w (N entries), as a buffer the metrics read without copying.
    public private(set) var weights: UnsafeBufferPointer<Double>
    /// The target's pointing set (N entries), as a buffer.
    public private(set) var pointing: UnsafeBufferPointer<Bool>
    /// VGMED's clipped target distribution: max(w_i / Σw, 1e-12) (N entries).
    public private(set) var targetDistribution: UnsafeBufferPointer<Double>
    /// N: the number of cells.
    public private(set) var count = 0

    /// Statistics of a.
    public private(set) var sum = 0.0
    /// Σ max(a_i, 0).
    public private(set) var positiveSum = 0.0
    /// min a.
    public private(set) var minimum = 0.0
    /// max a.
    public private(set) var maximum = 0.0
    /// Σ a_i / N.
    public private(set) var mean = 0.0
    /// Population standard deviation of a (divisor N).
    public private(set) var standardDeviation = 0.0
    /// Σ ã.
    public private(set) var relativeSum = 0.0
    /// Whether some ã_i < 0.
    public private(set) var relativeHasNegative = false

    private var capacity = 0
    private var sortedValid = false
    private var relativeStorage: UnsafeMutableBufferPointer<Double>
    private var sortedValues: UnsafeMutableBufferPointer<Double>
    private var sortedWeights: UnsafeMutableBufferPointer<Double>
    private var distributionStorage: UnsafeMutableBufferPointer<Double>
    private var order: UnsafeMutableBufferPointer<Int32>
    private var orderSwap: UnsafeMutableBufferPointer<Int32>
    private var keys: UnsafeMutableBufferPointer<UInt64>
    private var keysSwap: UnsafeMutableBufferPointer<UInt64>
    private var weightStorage: UnsafeMutableBufferPointer<Double>
    private var pointingStorage: UnsafeMutableBufferPointer<Bool>
    /// Whether the buffers hold `target`'s cells.
    private var targetLoaded = false

    /// An empty workspace.
    public init() {
        values = UnsafeMutableBufferPointer(start: nil, count: 0)
        relative = values
        relativeStorage = values
        sortedValues = values
        sortedWeights = values
        distributionStorage = values
        weightStorage = values
        pointingStorage = UnsafeMutableBufferPointer(start: nil, count: 0)
        order = UnsafeMutableBufferPointer(start: nil, count: 0)
        orderSwap = order
        keys = UnsafeMutableBufferPointer(start: nil, count: 0)
        keysSwap = keys
        weights = UnsafeBufferPointer(start: nil, count: 0)
        pointing = UnsafeBufferPointer(start: nil, count: 0)
        targetDistribution = weights
        target = TargetCells(rows: 0, cols: 0, weights: [])
    }

    deinit { release() }

    private func release() {
        values.deallocate()
        relativeStorage.deallocate()
        sortedValues.deallocate()
        sortedWeights.deallocate()
        distributionStorage.deallocate()
        weightStorage.deallocate()
        pointingStorage.deallocate()
        order.deallocate()
        orderSwap.deallocate()
        keys.deallocate()
        keysSwap.deallocate()
    }

    private func reserve(_ n: Int) {
        guard n > capacity else { return }
        release()
        capacity = Swift.max(n, 16)
        values = .allocate(capacity: capacity)
        relativeStorage = .allocate(capacity: capacity)
        relative = relativeStorage
        sortedValues = .allocate(capacity: capacity)
        sortedWeights = .allocate(capacity: capacity)
        distributionStorage = .allocate(capacity: capacity)
        weightStorage = .allocate(capacity: capacity)
        pointingStorage = .allocate(capacity: capacity)
        order = .allocate(capacity: capacity)
        orderSwap = .allocate(capacity: capacity)
        keys = .allocate(capacity: capacity)
        keysSwap = .allocate(capacity: capacity)
        targetLoaded = false
    }

    /// Makes `target` the current one; its buffers are filled once per target, not once per map
    /// (a question's maps share one target, and `==` on the same arrays is immediate).
    private func setTarget(_ target: TargetCells) {
        if targetLoaded && target == self.target { return }
        self.target = target
        let n = target.count
        count = n
        _ = UnsafeMutableBufferPointer(rebasing: weightStorage[0..<n]).update(fromContentsOf: target.weights)
        _ = UnsafeMutableBufferPointer(rebasing: pointingStorage[0..<n]).update(fromContentsOf: target.pointing)
        let total = target.totalWeight
        for i in 0..<n { distributionStorage[i] = Swift.max(weightStorage[i] / total, divergenceFloor) }
        weights = UnsafeBufferPointer(rebasing: weightStorage[0..<n])
        pointing = UnsafeBufferPointer(rebasing: pointingStorage[0..<n])
        targetDistribution = UnsafeBufferPointer(rebasing: distributionStorage[0..<n])
        targetLoaded = true
    }

    /// Loads a map: `fill` writes the N raw values into the buffer it is given; `baseline`, when
    /// given, writes the baseline b likewise. The caller has checked that every value is finite.
    public func load(
        target: TargetCells, fill: (UnsafeMutableBufferPointer<Double>) -> Void,
        baseline: ((UnsafeMutableBufferPointer<Double>) -> Void)? = nil
    ) {
        let n = target.count
        reserve(n)
        setTarget(target)
        let a = UnsafeMutableBufferPointer(rebasing: values[0..<n])
        fill(a)
        if let baseline {
            let r = UnsafeMutableBufferPointer(rebasing: relativeStorage[0..<n])
            baseline(r)
            for i in 0..<n { r[i] = a[i] / Swift.max(r[i], MapWorkspace.epsilon) }
            relative = relativeStorage
        } else {
            // ã = a: the same cells, not a copy.
            relative = values
        }
        computeStatistics(hasBaseline: baseline != nil)
    }

    /// Loads a map held in an array (tests and tools).
    public func load(target: TargetCells, values map: [Double], baseline: [Double]? = nil) {
        load(
            target: target, fill: { buffer in _ = buffer.update(fromContentsOf: map) },
            baseline: baseline.map { b in { buffer in _ = buffer.update(fromContentsOf: b) } })
    }

    private func computeStatistics(hasBaseline: Bool) {
        sortedValid = false
        let n = count
        guard n > 0 else { return }
        let a = UnsafeBufferPointer(values)
        var s = 0.0
        var p = 0.0
        var lo = a[0]
        var hi = a[0]
        for i in 0..<n {
            let v = a[i]
            s += v
            p += Swift.max(v, 0)
            lo = Swift.min(lo, v)
            hi = Swift.max(hi, v)
        }
        let m = s / Double(n)
        var ss = 0.0
        for i in 0..<n {
            let d = a[i] - m
            ss += d * d
        }
        sum = s
        positiveSum = p
        minimum = lo
        maximum = hi
        mean = m
        // A constant map has σ = 0 exactly, whatever the rounding of the mean.
        standardDeviation = lo == hi ? 0 : (ss / Double(n)).squareRoot()
        if hasBaseline {
            let r = UnsafeBufferPointer(relative)
            var rs = 0.0
            var negative = false
            for i in 0..<n {
                let v = r[i]
                rs += v
                if v < 0 { negative = true }
            }
            relativeSum = rs
            relativeHasNegative = negative
        } else {
            // ã = a: the same sum, added in the same order, and a negative cell exactly when min a < 0.
            relativeSum = s
            relativeHasNegative = lo < 0
        }
    }

    /// The cells sorted by ascending value of a, as (values, weights) buffers of N entries.
    /// The order of tied cells is unspecified: every metric that reads it treats a tie group as
    /// a whole.
    ///
    /// An LSD radix sort of the values' order-preserving 64-bit keys (8 passes of 8 bits, a pass
    /// skipped when every key has the same byte there): linear in N, with no comparisons.
    public func sortedAscending() -> (values: UnsafeBufferPointer<Double>, weights: UnsafeBufferPointer<Double>) {
        let n = count
        if !sortedValid {
            let a = UnsafeBufferPointer(values)
            for i in 0..<n {
                keys[i] = Self.sortKey(a[i])
                order[i] = Int32(i)
            }
            let sortedInB = Self.radixSort(count: n, keys: keys, swapKeys: keysSwap, order: order, swapOrder: orderSwap)
            let sorted = sortedInB ? orderSwap : order
            let w = weights
            for i in 0..<n {
                let j = Int(sorted[i])
                sortedValues[i] = a[j]
                sortedWeights[i] = w[j]
            }
            sortedValid = true
        }
        return (
            UnsafeBufferPointer(rebasing: sortedValues[0..<n]), UnsafeBufferPointer(rebasing: sortedWeights[0..<n])
        )
    }

    /// A key whose unsigned order is the numeric order of finite doubles (−0 just below +0).
    @inline(__always)
    static func sortKey(_ value: Double) -> UInt64 {
        let bits = value.bitPattern
        return bits & (1 << 63) != 0 ? ~bits : bits | (1 << 63)
    }

    /// Sorts `order` by `keys` (both rearranged), ping-ponging with the swap buffers; returns
    /// whether the result ended in the swap buffers. The eight byte histograms are counted in
    /// one pass over the keys (a byte's counts do not depend on the keys' order).
    static func radixSort(
        count n: Int, keys: UnsafeMutableBufferPointer<UInt64>, swapKeys: UnsafeMutableBufferPointer<UInt64>,
        order: UnsafeMutableBufferPointer<Int32>, swapOrder: UnsafeMutableBufferPointer<Int32>
    ) -> Bool {
        guard n > 0 else { return false }
        var source = (keys: keys, order: order)
        var target = (keys: swapKeys, order: swapOrder)
        var inSwap = false
        return withUnsafeTemporaryAllocation(of: Int.self, capacity: 8 * 256) { counts in
            counts.update(repeating: 0)
            for i in 0..<n {
                let key = source.keys[i]
                for pass in 0..<8 { counts[pass << 8 | Int((key >> UInt64(pass * 8)) & 0xFF)] += 1 }
            }
            let first = source.keys[0]
            for pass in 0..<8 {
                let shift = UInt64(pass * 8)
                let base = pass << 8
                if counts[base | Int((first >> shift) & 0xFF)] == n { continue }
                var total = 0
                for b in 0..<256 {
                    let c = counts[base | b]
                    counts[base | b] = total
                    total += c
                }
                for i in 0..<n {
                    let key = source.keys[i]
                    let b = base | Int((key >> shift) & 0xFF)
                    let at = counts[b]
                    counts[b] = at + 1
                    target.keys[at] = key
                    target.order[at] = source.order[i]
                }
                swap(&source, &target)
                inSwap.toggle()
            }
            return inSwap
        }
    }
}
