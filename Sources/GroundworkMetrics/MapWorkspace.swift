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
    /// The relative map ã (a copy of a when there is no baseline).
    public private(set) var relative: UnsafeMutableBufferPointer<Double>
    /// The target.
    public private(set) var target: TargetCells
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
    private var sortedValues: UnsafeMutableBufferPointer<Double>
    private var sortedWeights: UnsafeMutableBufferPointer<Double>
    private var order: [Int32] = []
    private var orderSwap: [Int32] = []
    private var keys: [UInt64] = []
    private var keysSwap: [UInt64] = []

    /// An empty workspace.
    public init() {
        values = UnsafeMutableBufferPointer(start: nil, count: 0)
        relative = values
        sortedValues = values
        sortedWeights = values
        target = TargetCells(rows: 0, cols: 0, weights: [])
    }

    deinit { release() }

    private func release() {
        values.deallocate()
        relative.deallocate()
        sortedValues.deallocate()
        sortedWeights.deallocate()
    }

    private func reserve(_ n: Int) {
        guard n > capacity else { return }
        release()
        capacity = Swift.max(n, 16)
        values = .allocate(capacity: capacity)
        relative = .allocate(capacity: capacity)
        sortedValues = .allocate(capacity: capacity)
        sortedWeights = .allocate(capacity: capacity)
    }

    /// Loads a map: `fill` writes the N raw values into the buffer it is given; `baseline`, when
    /// given, writes the baseline b likewise. The caller has checked that every value is finite.
    public func load(
        target: TargetCells, fill: (UnsafeMutableBufferPointer<Double>) -> Void,
        baseline: ((UnsafeMutableBufferPointer<Double>) -> Void)? = nil
    ) {
        let n = target.count
        reserve(n)
        self.target = target
        count = n
        let a = UnsafeMutableBufferPointer(rebasing: values[0..<n])
        fill(a)
        let r = UnsafeMutableBufferPointer(rebasing: relative[0..<n])
        if let baseline {
            baseline(r)
            for i in 0..<n { r[i] = a[i] / Swift.max(r[i], MapWorkspace.epsilon) }
        } else {
            _ = r.update(fromContentsOf: a)
        }
        computeStatistics()
    }

    /// Loads a map held in an array (tests and tools).
    public func load(target: TargetCells, values map: [Double], baseline: [Double]? = nil) {
        load(
            target: target, fill: { buffer in _ = buffer.update(fromContentsOf: map) },
            baseline: baseline.map { b in { buffer in _ = buffer.update(fromContentsOf: b) } })
    }

    private func computeStatistics() {
        sortedValid = false
        let n = count
        guard n > 0 else { return }
        var s = 0.0
        var p = 0.0
        var lo = values[0]
        var hi = values[0]
        for i in 0..<n {
            let v = values[i]
            s += v
            p += Swift.max(v, 0)
            lo = Swift.min(lo, v)
            hi = Swift.max(hi, v)
        }
        let m = s / Double(n)
        var ss = 0.0
        for i in 0..<n {
            let d = values[i] - m
            ss += d * d
        }
        var rs = 0.0
        var negative = false
        for i in 0..<n {
            let v = relative[i]
            rs += v
            if v < 0 { negative = true }
        }
        sum = s
        positiveSum = p
        minimum = lo
        maximum = hi
        mean = m
        // A constant map has σ = 0 exactly, whatever the rounding of the mean.
        standardDeviation = lo == hi ? 0 : (ss / Double(n)).squareRoot()
        relativeSum = rs
        relativeHasNegative = negative
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
            if keys.count < n {
                keys = [UInt64](repeating: 0, count: n)
                keysSwap = keys
                order = [Int32](repeating: 0, count: n)
                orderSwap = order
            }
            keys.withUnsafeMutableBufferPointer { keyA in
                keysSwap.withUnsafeMutableBufferPointer { keyB in
                    order.withUnsafeMutableBufferPointer { indexA in
                        orderSwap.withUnsafeMutableBufferPointer { indexB in
                            for i in 0..<n {
                                keyA[i] = Self.sortKey(values[i])
                                indexA[i] = Int32(i)
                            }
                            let sortedInB = Self.radixSort(
                                count: n, keys: keyA, swapKeys: keyB, order: indexA, swapOrder: indexB)
                            let sorted = sortedInB ? indexB : indexA
                            target.weights.withUnsafeBufferPointer { w in
                                for i in 0..<n {
                                    let j = Int(sorted[i])
                                    sortedValues[i] = values[j]
                                    sortedWeights[i] = w[j]
                                }
                            }
                        }
                    }
                }
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
    /// whether the result ended in the swap buffers.
    static func radixSort(
        count n: Int, keys: UnsafeMutableBufferPointer<UInt64>, swapKeys: UnsafeMutableBufferPointer<UInt64>,
        order: UnsafeMutableBufferPointer<Int32>, swapOrder: UnsafeMutableBufferPointer<Int32>
    ) -> Bool {
        var source = (keys: keys, order: order)
        var target = (keys: swapKeys, order: swapOrder)
        var inSwap = false
        var histogram = [Int](repeating: 0, count: 256)
        histogram.withUnsafeMutableBufferPointer { counts in
            for pass in 0..<8 {
                let shift = UInt64(pass * 8)
                counts.update(repeating: 0)
                for i in 0..<n { counts[Int((source.keys[i] >> shift) & 0xFF)] += 1 }
                if counts[Int((source.keys[0] >> shift) & 0xFF)] == n { continue }
                var total = 0
                for b in 0..<256 {
                    let c = counts[b]
                    counts[b] = total
                    total += c
                }
                for i in 0..<n {
                    let key = source.keys[i]
                    let b = Int((key >> shift) & 0xFF)
                    let at = counts[b]
                    counts[b] = at + 1
                    target.keys[at] = key
                    target.order[at] = source.order[i]
                }
                swap(&source, &target)
                inSwap.toggle()
            }
        }
        return inSwap
    }
}
