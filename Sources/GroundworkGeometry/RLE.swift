/// COCO run-length encoding of a binary mask, exactly as pycocotools stores it.
///
/// Pixels are read in column-major (Fortran) order — down the first column, then down the
/// second, ... — and `counts` alternates runs of unset and set pixels, always starting with a
/// run of unset pixels (0 when the first pixel is set). COCO writes the size as
/// `size = [height, width]`.
///
/// Counts are kept canonical: no zero-length run except possibly the first, and no trailing
/// zero-length run, so equal masks have equal `RLE` values and `compressed` is byte-for-byte
/// what pycocotools' `encode` produces for the same mask. A 0-pixel mask is `counts == [0]`.
///
/// Encoded in JSON as COCO's `{"size": [height, width], "counts": "<compressed>"}`; decoding
/// also accepts COCO's uncompressed form with `counts` as an array of integers.
public struct RLE: Codable, Hashable, Sendable {
    /// Rows of the mask.
    public private(set) var height: Int
    /// Columns of the mask.
    public private(set) var width: Int
    /// Alternating unset/set run lengths, column-major, starting with unset; canonical.
    public private(set) var counts: [Int]

    /// An RLE from run lengths.
    ///
    /// Zero-length runs are accepted and merged away (a zero-length run joins its neighbours),
    /// so `counts` may come back shorter than given.
    /// - Throws: `GeometryError` when a dimension is negative, the pixel count overflows, a run
    ///   is negative, or the runs do not add up to `height * width`.
    public init(height: Int, width: Int, counts: [Int]) throws(GeometryError) {
        let total = try Self.pixelCount(height: height, width: width)
        var sum = 0
        for (index, run) in counts.enumerated() {
            guard run >= 0 else {
                throw GeometryError("RLE run \(index) is negative (\(run))")
            }
            let (next, overflow) = sum.addingReportingOverflow(run)
            guard !overflow, next <= total else {
                throw GeometryError("RLE runs add up to more than \(height)x\(width) = \(total) pixels")
            }
            sum = next
        }
        guard sum == total else {
            throw GeometryError("RLE runs add up to \(sum), not \(height)x\(width) = \(total) pixels")
        }
        self.height = height
        self.width = width
        self.counts = Self.canonical(counts)
    }

    /// Internal: counts already canonical and summing to height * width.
    init(uncheckedHeight height: Int, width: Int, counts: [Int]) {
        self.height = height
        self.width = width
        self.counts = counts
    }

    /// Encodes a mask (pycocotools `encode`). Non-zero bytes count as set; bytes missing from a
    /// short `pixels` array as unset.
    ///
    /// O(width × height) with no per-pixel allocation, reading the row-major buffer once, in
    /// order, eight bytes at a time (cache-friendly, unlike a column-by-column walk): it finds
    /// where each pixel differs from the one above, sorts those changes by column (counting
    /// sort), and emits the runs column by column from the changes alone.
    public init(mask: BinaryMask) {
        let height = mask.height
        let width = mask.width
        let total = width * height
        guard total > 0 else {
            self.init(uncheckedHeight: height, width: width, counts: [0])
            return
        }
        var counts: [Int] = []
        let encode = { (pixels: UnsafeBufferPointer<UInt8>) in
            // Vertical changes, in row-major order: pixel (x, y) differs from (x, y - 1).
            var changeColumns: [Int] = []
            var changeRows: [Int] = []
            let base = UnsafeRawPointer(pixels.baseAddress!)
            for y in 1..<height {
                let above = (y - 1) * width
                let row = y * width
                var x = 0
                while x < width {
                    if x + 8 <= width {
                        let a = base.loadUnaligned(fromByteOffset: above + x, as: UInt64.self)
                        let b = base.loadUnaligned(fromByteOffset: row + x, as: UInt64.self)
                        if a == b {
                            x += 8
                            continue
                        }
                    }
                    let stop = Swift.min(x + 8, width)
                    while x < stop {
                        if (pixels[above + x] == 0) != (pixels[row + x] == 0) {
                            changeColumns.append(x)
                            changeRows.append(y)
                        }
                        x += 1
                    }
                }
            }
            // Counting sort by column; rows stay increasing within a column.
            var columnStart = [Int](repeating: 0, count: width + 1)
            for x in changeColumns { columnStart[x + 1] += 1 }
            for x in 0..<width { columnStart[x + 1] += columnStart[x] }
            var sortedRows = [Int](repeating: 0, count: changeRows.count)
            var next = columnStart
            for (x, y) in zip(changeColumns, changeRows) {
                sortedRows[next[x]] = y
                next[x] += 1
            }
            // Emit runs in column-major order: a change at the top of a column when its first
            // pixel differs from the running value, then the column's own changes.
            counts.reserveCapacity(changeRows.count + width + 1)
            var current = false
            var runStart = 0
            for x in 0..<width {
                let offset = x * height
                let top = pixels[x] != 0
                if top != current {
                    counts.append(offset - runStart)
                    runStart = offset
                    current = top
                }
                for index in columnStart[x]..<columnStart[x + 1] {
                    let position = offset + sortedRows[index]
                    counts.append(position - runStart)
                    runStart = position
                    current.toggle()
                }
            }
            counts.append(total - runStart)
        }
        if mask.pixels.count >= total {
            mask.pixels.withUnsafeBufferPointer { encode(UnsafeBufferPointer(rebasing: $0[0..<total])) }
        } else {
            // Malformed (short) pixel array: pad with unset pixels first.
            var padded = mask.pixels
            padded.append(contentsOf: repeatElement(0, count: total - padded.count))
            padded.withUnsafeBufferPointer { encode($0) }
        }
        self.init(uncheckedHeight: height, width: width, counts: counts)
    }

    /// An RLE of the box rasterised by the centre rule of `BinaryMask.rasterize(box:width:height:)`,
    /// built directly from runs in O(columns covered), without a pixel buffer. A negative or
    /// overflowing size gives a 0 × 0 RLE.
    public init(box: Box, width: Int, height: Int) {
        let (width, height) = BinaryMask.sanitisedSize(width: width, height: height)
        let total = width * height
        guard box.isFinite else {
            self.init(uncheckedHeight: height, width: width, counts: [total])
            return
        }
        let columns = BinaryMask.centreRange(box.x0, box.x1, count: width)
        let rows = BinaryMask.centreRange(box.y0, box.y1, count: height)
        guard !columns.isEmpty, !rows.isEmpty else {
            self.init(uncheckedHeight: height, width: width, counts: [total])
            return
        }
        var counts: [Int] = []
        if rows.count == height {
            // Full-height columns merge into one set run.
            counts = [columns.lowerBound * height, columns.count * height]
        } else {
            counts.reserveCapacity(2 * columns.count + 1)
            counts.append(columns.lowerBound * height + rows.lowerBound)
            for column in columns {
                counts.append(rows.count)
                if column + 1 < columns.upperBound {
                    counts.append(height - rows.count)
                }
            }
        }
        let covered = counts.reduce(0, +)
        if covered < total { counts.append(total - covered) }
        self.init(uncheckedHeight: height, width: width, counts: counts)
    }

    /// Decodes to a mask (pycocotools `decode`): O(width × height) to allocate plus O(set
    /// pixels + runs).
    public func mask() -> BinaryMask {
        var pixels = [UInt8](repeating: 0, count: width * height)
        let height = self.height
        let width = self.width
        pixels.withUnsafeMutableBufferPointer { buffer in
            forEachSetRun { start, end in
                var position = start
                while position < end {
                    let x = position / height
                    let y = position % height
                    let stop = Swift.min(end, (x + 1) * height)
                    var index = y * width + x
                    for _ in position..<stop {
                        buffer[index] = 1
                        index += width
                    }
                    position = stop
                }
            }
        }
        return BinaryMask(uncheckedWidth: width, height: height, pixels: pixels)
    }

    /// Calls `body(start, end)` for every run of set pixels, as half-open column-major offsets.
    @inline(__always)
    func forEachSetRun(_ body: (Int, Int) -> Void) {
        var position = 0
        for (index, run) in counts.enumerated() {
            if index & 1 == 1 && run > 0 { body(position, position + run) }
            position += run
        }
    }

    /// The number of set pixels (pycocotools `area`), summed from the runs: O(runs).
    public var area: Int {
        var total = 0
        var index = 1
        while index < counts.count {
            total += counts[index]
            index += 2
        }
        return total
    }

    /// True when no pixel is set.
    public var isEmpty: Bool { counts.count < 2 }

    /// The tight half-open box of the set pixels, `[minX, minY, maxX + 1, maxY + 1]`, computed
    /// from the runs without decoding (O(runs)); nil when no pixel is set. Equal to
    /// `mask().bounds`.
    public var bounds: Box? {
        guard height > 0, !isEmpty else { return nil }
        var minX = Int.max
        var maxX = -1
        var minY = Int.max
        var maxY = -1
        let height = self.height
        forEachSetRun { start, end in
            let firstColumn = start / height
            let lastColumn = (end - 1) / height
            minX = Swift.min(minX, firstColumn)
            maxX = Swift.max(maxX, lastColumn)
            if firstColumn == lastColumn {
                minY = Swift.min(minY, start % height)
                maxY = Swift.max(maxY, (end - 1) % height)
            } else {
                // A run that wraps into the next column covers the bottom row of its first
                // column and the top row of its last.
                minY = 0
                maxY = height - 1
            }
        }
        guard maxX >= 0 else { return nil }
        return Box(columns: minX..<(maxX + 1), rows: minY..<(maxY + 1))
    }

    /// pycocotools `toBbox`: `[x, y, width, height]` of the tight pixel box (the
    /// `BoxConvention.cocoXYWH` numbers of `bounds`), or `[0, 0, 0, 0]` for an empty mask.
    public var cocoBBox: [Double] {
        guard let box = bounds else { return [0, 0, 0, 0] }
        return [box.x0, box.y0, box.x1 - box.x0, box.y1 - box.y0]
    }

    // MARK: Compressed strings

    /// Parses COCO's compressed counts string (pycocotools `rleFrString`): each count is a
    /// variable-length signed integer in 5-bit groups, least significant first, one character
    /// per group (`'0' + group`, bit 0x20 = more groups follow, bit 0x10 of the last group =
    /// sign), and from the fourth count on the value stored is the difference from the count
    /// two places earlier.
    /// - Throws: `GeometryError` for a character outside `'0'...'o'`, a truncated or over-long
    ///   number, a negative run, or runs that do not add up to `height * width`.
    public init(compressed: String, height: Int, width: Int) throws(GeometryError) {
        _ = try Self.pixelCount(height: height, width: width)
        var counts: [Int] = []
        var value = 0
        var shift = 0
        var characters = 0
        for byte in compressed.utf8 {
            guard byte >= 48, byte <= 111 else {
                throw GeometryError(
                    "RLE string has an invalid character at offset \(characters) (byte \(byte))")
            }
            characters += 1
            let group = Int(byte - 48)
            guard shift <= 55 else {
                throw GeometryError("RLE string has a number longer than 12 characters")
            }
            value |= (group & 0x1f) << shift
            shift += 5
            if group & 0x20 != 0 { continue }
            if group & 0x10 != 0 {
                value |= -1 << shift  // sign-extend
            }
            if counts.count > 2 {
                let (sum, overflow) = value.addingReportingOverflow(counts[counts.count - 2])
                guard !overflow else { throw GeometryError("RLE string has a count that overflows") }
                value = sum
            }
            guard value >= 0 else {
                throw GeometryError("RLE string decodes to a negative run (\(value)) at count \(counts.count)")
            }
            counts.append(value)
            value = 0
            shift = 0
        }
        guard shift == 0 else {
            throw GeometryError("RLE string ends in the middle of a number")
        }
        try self.init(height: height, width: width, counts: counts)
    }

    /// COCO's compressed counts string (pycocotools `rleToString`), the inverse of
    /// `init(compressed:height:width:)`; identical to pycocotools' for the same mask.
    public var compressed: String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(counts.count * 2)
        for index in counts.indices {
            var value = counts[index]
            if index > 2 { value -= counts[index - 2] }
            var more = true
            while more {
                var group = value & 0x1f
                value >>= 5  // arithmetic shift, as in C on `long`
                more = group & 0x10 != 0 ? value != -1 : value != 0
                if more { group |= 0x20 }
                bytes.append(UInt8(group + 48))
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    // MARK: Run-level set operations

    /// The number of pixels set in both masks, from the runs: O(runs of both). 0 when the
    /// sizes differ.
    public func intersectionArea(_ other: RLE) -> Int {
        guard height == other.height, width == other.width else { return 0 }
        var shared = 0
        Self.walk(self, other) { length, a, b in
            if a && b { shared += length }
        }
        return shared
    }

    /// Intersection over union of the set pixels, from the runs (pycocotools `iou` with
    /// `iscrowd = 0`): O(runs of both). 0 when the sizes differ or neither mask is set.
    public func iou(_ other: RLE) -> Double {
        guard height == other.height, width == other.width else { return 0 }
        let shared = intersectionArea(other)
        let union = area + other.area - shared
        return union == 0 ? 0 : Double(shared) / Double(union)
    }

    /// The union of masks (pycocotools `merge(..., intersect=False)`), from the runs; nil when
    /// `masks` is empty or the sizes differ.
    public static func union(_ masks: [RLE]) -> RLE? {
        combine(masks) { $0 || $1 }
    }

    /// The intersection of masks (pycocotools `merge(..., intersect=True)`), from the runs; nil
    /// when `masks` is empty or the sizes differ.
    public static func intersection(_ masks: [RLE]) -> RLE? {
        combine(masks) { $0 && $1 }
    }

    private static func combine(_ masks: [RLE], _ operation: (Bool, Bool) -> Bool) -> RLE? {
        guard var result = masks.first else { return nil }
        for mask in masks.dropFirst() {
            guard mask.height == result.height, mask.width == result.width else { return nil }
            var counts: [Int] = []
            counts.reserveCapacity(Swift.max(result.counts.count, mask.counts.count))
            var current = false
            var run = 0
            walk(result, mask) { length, a, b in
                let set = operation(a, b)
                if set != current {
                    counts.append(run)
                    run = 0
                    current = set
                }
                run += length
            }
            counts.append(run)
            result = RLE(uncheckedHeight: result.height, width: result.width, counts: counts)
        }
        return result
    }

    /// Walks two same-size RLEs together, calling `body(length, setInA, setInB)` for each
    /// maximal stretch over which neither changes (lengths > 0).
    private static func walk(_ a: RLE, _ b: RLE, _ body: (Int, Bool, Bool) -> Void) {
        var indexA = 0
        var indexB = 0
        var leftA = a.counts.first ?? 0
        var leftB = b.counts.first ?? 0
        while true {
            while leftA == 0 && indexA + 1 < a.counts.count {
                indexA += 1
                leftA = a.counts[indexA]
            }
            while leftB == 0 && indexB + 1 < b.counts.count {
                indexB += 1
                leftB = b.counts[indexB]
            }
            guard leftA > 0, leftB > 0 else { return }
            let step = Swift.min(leftA, leftB)
            body(step, indexA & 1 == 1, indexB & 1 == 1)
            leftA -= step
            leftB -= step
        }
    }

    // MARK: Helpers

    private static func pixelCount(height: Int, width: Int) throws(GeometryError) -> Int {
        guard height >= 0, width >= 0 else {
            throw GeometryError("RLE size [\(height), \(width)] is negative")
        }
        let (total, overflow) = height.multipliedReportingOverflow(by: width)
        guard !overflow else {
            throw GeometryError("RLE size [\(height), \(width)] overflows")
        }
        return total
    }

    /// Merges zero-length runs into their neighbours and drops trailing zero runs, keeping a
    /// leading zero run when the first pixel is set; `[0]` for no pixels at all.
    static func canonical(_ counts: [Int]) -> [Int] {
        var needsWork = counts.isEmpty
        if !needsWork {
            for index in counts.indices.dropFirst() where counts[index] == 0 {
                needsWork = true
                break
            }
        }
        guard needsWork else { return counts }
        var result: [Int] = []
        result.reserveCapacity(counts.count)
        for (index, run) in counts.enumerated() where run > 0 {
            let isSet = index & 1 == 1
            if result.isEmpty {
                if isSet { result.append(0) }
                result.append(run)
            } else if (result.count - 1) & 1 == 1 ? isSet : !isSet {
                result[result.count - 1] += run
            } else {
                result.append(run)
            }
        }
        return result.isEmpty ? [0] : result
    }

    // MARK: Codable

    private enum CodingKeys: String, CodingKey { case size, counts }

    /// Decodes `{"size": [height, width], "counts": "<compressed>"}` or, COCO's uncompressed
    /// form, `{"size": [height, width], "counts": [run, run, ...]}`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let size = try container.decode([Int].self, forKey: .size)
        guard size.count == 2 else {
            throw DecodingError.dataCorruptedError(
                forKey: .size, in: container, debugDescription: "RLE size is [height, width], got \(size.count) numbers")
        }
        do {
            if let string = try? container.decode(String.self, forKey: .counts) {
                try self.init(compressed: string, height: size[0], width: size[1])
            } else {
                let runs = try container.decode([Int].self, forKey: .counts)
                try self.init(height: size[0], width: size[1], counts: runs)
            }
        } catch let error as GeometryError {
            throw DecodingError.dataCorruptedError(forKey: .counts, in: container, debugDescription: error.message)
        }
    }

    /// Encodes `{"size": [height, width], "counts": "<compressed>"}`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode([height, width], forKey: .size)
        try container.encode(compressed, forKey: .counts)
    }
}
