/// A binary mask at image resolution: row-major, one byte per pixel, pixel (x, y) — column x,
/// row y of the displayed image — at index `y * width + x`. A byte is 1 when the pixel is set
/// and 0 when not.
///
/// `pixels` is a public variable for speed; code that writes it directly should keep it
/// `width * height` bytes of 0 or 1. Every operation here tolerates other contents: a non-zero
/// byte counts as set, and missing bytes (a short array) count as unset.
public struct BinaryMask: Hashable, Sendable {
    /// Columns, ≥ 0.
    public let width: Int
    /// Rows, ≥ 0.
    public let height: Int
    /// `width * height` bytes, row-major, 1 = set.
    public var pixels: [UInt8]

    /// An empty (all-unset) mask. A negative dimension, or a size whose pixel count overflows
    /// `Int`, gives a 0 × 0 mask.
    public init(width: Int, height: Int) {
        let (width, height) = Self.sanitisedSize(width: width, height: height)
        self.width = width
        self.height = height
        self.pixels = [UInt8](repeating: 0, count: width * height)
    }

    /// A mask from row-major bytes; every non-zero byte is stored as 1.
    /// - Throws: `GeometryError` when a dimension is negative, the pixel count overflows, or
    ///   `pixels.count != width * height`.
    public init(width: Int, height: Int, pixels: [UInt8]) throws(GeometryError) {
        guard width >= 0, height >= 0 else {
            throw GeometryError("mask size \(width)x\(height) is negative")
        }
        let (count, overflow) = width.multipliedReportingOverflow(by: height)
        guard !overflow else {
            throw GeometryError("mask size \(width)x\(height) overflows")
        }
        guard pixels.count == count else {
            throw GeometryError("mask of \(width)x\(height) needs \(count) bytes, got \(pixels.count)")
        }
        self.width = width
        self.height = height
        var pixels = pixels
        pixels.withUnsafeMutableBufferPointer { buffer in
            for index in buffer.indices where buffer[index] > 1 {
                buffer[index] = 1
            }
        }
        self.pixels = pixels
    }

    /// Internal: a mask whose bytes are known to be `width * height` zeros and ones.
    init(uncheckedWidth width: Int, height: Int, pixels: [UInt8]) {
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    static func sanitisedSize(width: Int, height: Int) -> (Int, Int) {
        guard width >= 0, height >= 0, !width.multipliedReportingOverflow(by: height).overflow else {
            return (0, 0)
        }
        return (width, height)
    }

    /// The pixel at column `x`, row `y`, written `mask[x, y]`. Reading outside the mask gives
    /// `false`; writing outside the mask is ignored.
    public subscript(x: Int, y: Int) -> Bool {
        get {
            guard x >= 0, x < width, y >= 0, y < height else { return false }
            let index = y * width + x
            return index < pixels.count && pixels[index] != 0
        }
        set {
            guard x >= 0, x < width, y >= 0, y < height else { return }
            let index = y * width + x
            guard index < pixels.count else { return }
            pixels[index] = newValue ? 1 : 0
        }
    }

    /// The number of pixels the mask covers (within `width * height`).
    var pixelCount: Int { Swift.min(pixels.count, width * height) }

    /// The number of set pixels.
    public var area: Int {
        let count = pixelCount
        return pixels.withUnsafeBufferPointer { buffer in
            var total = 0
            for index in 0..<count where buffer[index] != 0 {
                total += 1
            }
            return total
        }
    }

    /// True when no pixel is set.
    public var isEmpty: Bool {
        let count = pixelCount
        return pixels.withUnsafeBufferPointer { buffer in
            for index in 0..<count where buffer[index] != 0 {
                return false
            }
            return true
        }
    }

    /// The tight half-open box of the set pixels, `[minX, minY, maxX + 1, maxY + 1]`, so a
    /// single set pixel (i, j) gives `[i, j, i + 1, j + 1]`; nil when no pixel is set.
    public var bounds: Box? {
        let count = pixelCount
        let width = self.width
        guard width > 0 else { return nil }
        return pixels.withUnsafeBufferPointer { buffer -> Box? in
            var minX = Int.max
            var minY = Int.max
            var maxX = -1
            var maxY = -1
            var rowStart = 0
            var y = 0
            while rowStart < count {
                let rowEnd = Swift.min(rowStart + width, count)
                var first = rowStart
                while first < rowEnd && buffer[first] == 0 { first += 1 }
                if first < rowEnd {
                    var last = rowEnd - 1
                    while buffer[last] == 0 { last -= 1 }
                    minX = Swift.min(minX, first - rowStart)
                    maxX = Swift.max(maxX, last - rowStart)
                    if minY == Int.max { minY = y }
                    maxY = y
                }
                rowStart += width
                y += 1
            }
            guard maxY >= 0 else { return nil }
            return Box(columns: minX..<(maxX + 1), rows: minY..<(maxY + 1))
        }
    }

    /// Intersection over union of the set pixels, in [0, 1].
    ///
    /// Returns 0 when the two masks differ in size (no precondition: a size mismatch is a
    /// data error the caller should have caught) and when neither mask has a set pixel.
    public func iou(_ other: BinaryMask) -> Double {
        guard width == other.width, height == other.height else { return 0 }
        let count = Swift.min(pixelCount, other.pixelCount)
        var shared = 0
        var either = 0
        pixels.withUnsafeBufferPointer { a in
            other.pixels.withUnsafeBufferPointer { b in
                for index in 0..<count {
                    let p = a[index] != 0
                    let q = b[index] != 0
                    if p && q { shared += 1 }
                    if p || q { either += 1 }
                }
            }
        }
        // Pixels present in only one (malformed, short) array count towards the union.
        if pixelCount > count { either += countSet(in: pixels, from: count, to: pixelCount) }
        if other.pixelCount > count {
            either += countSet(in: other.pixels, from: count, to: other.pixelCount)
        }
        return either == 0 ? 0 : Double(shared) / Double(either)
    }

    private func countSet(in bytes: [UInt8], from start: Int, to end: Int) -> Int {
        var total = 0
        for index in start..<end where bytes[index] != 0 { total += 1 }
        return total
    }

    /// The pixels set in any of the masks; nil when `masks` is empty or their sizes differ.
    public static func union(_ masks: [BinaryMask]) -> BinaryMask? {
        voting(masks, minimumVotes: 1)
    }

    /// The pixels set in all of the masks; nil when `masks` is empty or their sizes differ.
    public static func intersection(_ masks: [BinaryMask]) -> BinaryMask? {
        voting(masks, minimumVotes: masks.count)
    }

    /// The pixels set in at least `threshold` of the masks — by default strictly more than half
    /// of them (`masks.count / 2 + 1`, so 2 of 3 and 3 of 4). A threshold below 1 is treated
    /// as 1; one above `masks.count` gives an empty mask. Nil when `masks` is empty or their
    /// sizes differ.
    public static func majority(_ masks: [BinaryMask], threshold: Int? = nil) -> BinaryMask? {
        voting(masks, minimumVotes: threshold ?? masks.count / 2 + 1)
    }

    private static func voting(_ masks: [BinaryMask], minimumVotes: Int) -> BinaryMask? {
        guard let first = masks.first else { return nil }
        guard masks.allSatisfy({ $0.width == first.width && $0.height == first.height }) else { return nil }
        let count = first.width * first.height
        let needed = Swift.max(1, minimumVotes)
        var result = [UInt8](repeating: 0, count: count)
        if needed > masks.count {
            return BinaryMask(uncheckedWidth: first.width, height: first.height, pixels: result)
        }
        if masks.count == 1 || needed == 1 || needed == masks.count {
            // Union and intersection need no counters.
            let isUnion = needed == 1
            if !isUnion { result = [UInt8](repeating: 1, count: count) }
            result.withUnsafeMutableBufferPointer { out in
                for mask in masks {
                    let available = mask.pixelCount
                    mask.pixels.withUnsafeBufferPointer { input in
                        if isUnion {
                            for index in 0..<available where input[index] != 0 { out[index] = 1 }
                        } else {
                            for index in 0..<available where input[index] == 0 { out[index] = 0 }
                            for index in available..<count { out[index] = 0 }
                        }
                    }
                }
            }
            return BinaryMask(uncheckedWidth: first.width, height: first.height, pixels: result)
        }
        var votes = [Int32](repeating: 0, count: count)
        votes.withUnsafeMutableBufferPointer { tally in
            for mask in masks {
                let available = mask.pixelCount
                mask.pixels.withUnsafeBufferPointer { input in
                    for index in 0..<available where input[index] != 0 { tally[index] += 1 }
                }
            }
            let threshold = Int32(clamping: needed)
            result.withUnsafeMutableBufferPointer { out in
                for index in 0..<count where tally[index] >= threshold { out[index] = 1 }
            }
        }
        return BinaryMask(uncheckedWidth: first.width, height: first.height, pixels: result)
    }
}

// MARK: - Rasterisation

extension BinaryMask {
    /// Rasterises a box: pixel (i, j) is set exactly when its centre (i + 0.5, j + 0.5) lies in
    /// the half-open box [x0, x1) × [y0, y1).
    ///
    /// So [0.4, 0, 1.6, 1] sets pixels 0 and 1 of row 0 (centres 0.5 and 1.5 are inside),
    /// [0.6, 0, 1.4, 1] sets nothing (neither centre is inside), and [0.5, 0, 1.5, 1] sets only
    /// pixel 0 (a centre on the left or top edge is in, on the right or bottom edge is out).
    /// Boxes on integer coordinates set exactly the pixels they cover. Parts outside the image
    /// are ignored; a box that is not finite sets nothing. Cost O(width × height) to allocate
    /// plus O(set pixels).
    public static func rasterize(box: Box, width: Int, height: Int) -> BinaryMask {
        var mask = BinaryMask(width: width, height: height)
        guard box.isFinite else { return mask }
        let columns = centreRange(box.x0, box.x1, count: mask.width)
        let rows = centreRange(box.y0, box.y1, count: mask.height)
        guard !columns.isEmpty, !rows.isEmpty else { return mask }
        let stride = mask.width
        mask.pixels.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            for row in rows {
                (base + row * stride + columns.lowerBound).update(repeating: 1, count: columns.count)
            }
        }
        return mask
    }

    /// Rasterises polygon rings: pixel (i, j) is set when its centre (i + 0.5, j + 0.5) lies
    /// inside at least one ring, each ring filled by the even-odd rule; the rings are unioned,
    /// as COCO merges the polygons of one segmentation (so a second ring cannot cut a hole).
    ///
    /// Boundaries follow the box rule: a centre exactly on an edge is inside when the region
    /// continues to its right along the row (left edges in, right edges out) and, for a
    /// horizontal edge, below it (top edges in, bottom edges out). An axis-aligned rectangle
    /// therefore rasterises exactly like the equivalent `Box`. Rings with fewer than 3 points,
    /// or with a coordinate that is not finite or exceeds 1e300 in magnitude, are skipped; parts
    /// outside the image are ignored.
    ///
    /// Scanline fill with an active-edge table: O(width × height) to allocate plus
    /// O(edges · log(edges) + edge–row crossings + set pixels), no per-pixel allocation.
    public static func rasterize(polygons: [Polygon], width: Int, height: Int) -> BinaryMask {
        var mask = BinaryMask(width: width, height: height)
        guard mask.width > 0, mask.height > 0 else { return mask }
        var scanner = Scanline(width: mask.width, height: mask.height)
        mask.pixels.withUnsafeMutableBufferPointer { buffer in
            for polygon in polygons {
                scanner.fill(polygon, into: buffer)
            }
        }
        return mask
    }

    /// The indices i in 0..<count whose centre i + 0.5 lies in [low, high).
    static func centreRange(_ low: Double, _ high: Double, count: Int) -> Range<Int> {
        let start = firstCentre(atOrAfter: low, count: count)
        let end = firstCentre(atOrAfter: high, count: count)
        return start < end ? start..<end : start..<start
    }

    /// The smallest i in 0...count with i + 0.5 >= value (count when no pixel centre in the
    /// image is at or after `value`; count for NaN). Exact: never converts an out-of-range
    /// double to Int.
    @inline(__always)
    static func firstCentre(atOrAfter value: Double, count: Int) -> Int {
        if value.isNaN { return count }
        if value <= 0.5 { return 0 }
        if value > Double(count) - 0.5 { return count }
        var index = Int((value - 0.5).rounded(.up))
        // value - 0.5 may round; settle the exact answer with exactly representable centres.
        while index > 0 && Double(index - 1) + 0.5 >= value { index -= 1 }
        while index < count && Double(index) + 0.5 < value { index += 1 }
        return index
    }
}

/// Reusable scanline state: an edge table and an active list, allocated once per call.
private struct Scanline {
    struct Edge {
        var rowStart: Int
        var rowEnd: Int
        /// The endpoint with the smaller y, and the other one.
        var lowX: Double
        var lowY: Double
        var highX: Double
        var highY: Double
    }

    let width: Int
    let height: Int
    var edges: [Edge] = []
    /// Active edges with their crossing x on the current row, kept ordered by x.
    var active: [(x: Double, edge: Int)] = []

    init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }

    mutating func fill(_ polygon: Polygon, into buffer: UnsafeMutableBufferPointer<UInt8>) {
        let points = polygon.points
        guard points.count >= 3 else { return }
        for point in points {
            guard point.x.isFinite, point.y.isFinite, Swift.abs(point.x) <= 1e300, Swift.abs(point.y) <= 1e300 else {
                return
            }
        }
        edges.removeAll(keepingCapacity: true)
        var previous = points[points.count - 1]
        for point in points {
            defer { previous = point }
            guard point.y != previous.y else { continue }  // horizontal edges cross no row centre
            let (low, high) = point.y < previous.y ? (point, previous) : (previous, point)
            // Rows whose centre line y = j + 0.5 satisfies low.y <= y < high.y.
            let rows = BinaryMask.centreRange(low.y, high.y, count: height)
            guard !rows.isEmpty else { continue }
            edges.append(
                Edge(
                    rowStart: rows.lowerBound, rowEnd: rows.upperBound,
                    lowX: low.x, lowY: low.y, highX: high.x, highY: high.y))
        }
        guard !edges.isEmpty else { return }
        edges.sort { $0.rowStart < $1.rowStart }
        active.removeAll(keepingCapacity: true)
        guard let base = buffer.baseAddress else { return }
        var next = 0
        var row = edges[0].rowStart
        while row < height && (next < edges.count || !active.isEmpty) {
            if active.isEmpty && next < edges.count && edges[next].rowStart > row {
                row = edges[next].rowStart
            }
            while next < edges.count && edges[next].rowStart <= row {
                active.append((x: 0, edge: next))
                next += 1
            }
            // Drop finished edges and compute the crossings on this row's centre line.
            let centreY = Double(row) + 0.5
            var kept = 0
            for index in active.indices {
                let edge = edges[active[index].edge]
                guard edge.rowEnd > row else { continue }
                let t = (centreY - edge.lowY) / (edge.highY - edge.lowY)
                active[kept] = (x: edge.lowX + (edge.highX - edge.lowX) * t, edge: active[index].edge)
                kept += 1
            }
            active.removeLast(active.count - kept)
            sortActive()
            // Even-odd: fill between crossings 0–1, 2–3, ...
            let rowBase = base + row * width
            var pair = 0
            while pair + 1 < active.count {
                let columns = BinaryMask.centreRange(active[pair].x, active[pair + 1].x, count: width)
                if !columns.isEmpty {
                    (rowBase + columns.lowerBound).update(repeating: 1, count: columns.count)
                }
                pair += 2
            }
            row += 1
        }
    }

    /// Orders the active list by x: insertion sort, linear on the nearly sorted order carried
    /// over from the previous row; a general sort for long (pathological) lists.
    private mutating func sortActive() {
        let count = active.count
        if count > 64 {
            active.sort { $0.x < $1.x }
            return
        }
        var index = 1
        while index < count {
            let item = active[index]
            var position = index
            while position > 0 && active[position - 1].x > item.x {
                active[position] = active[position - 1]
                position -= 1
            }
            active[position] = item
            index += 1
        }
    }
}
