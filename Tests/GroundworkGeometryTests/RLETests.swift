import Foundation
import GroundworkCore
import Testing

@testable import GroundworkGeometry

@Suite("COCO RLE")
struct RLETests {
    /// Strings, areas and toBbox values produced by pycocotools 2.0.11 `encode` for these masks,
    /// so the format is pinned even when the live cross-check is not run.
    static let pycocotoolsVectors: [(rows: [String], compressed: String, area: Int, bbox: [Double])] = [
        (["0110", "0110", "0000"], "32103", 4, [1, 0, 2, 2]),
        (["1000", "0000", "0001"], "01:0", 2, [0, 0, 4, 3]),
        (["10101", "01010", "10101"], "0110000000000000", 8, [0, 0, 5, 3]),
        (["0000", "0000", "0000"], "<", 0, [0, 0, 0, 0]),
        (["1111", "1111", "1111"], "0<", 12, [0, 0, 4, 3]),
    ]

    @Test("pinned pycocotools strings, areas and boxes")
    func pinnedVectors() throws {
        for vector in Self.pycocotoolsVectors {
            let m = mask(vector.rows)
            let rle = RLE(mask: m)
            #expect(rle.compressed == vector.compressed, "\(vector.rows)")
            #expect(rle.area == vector.area)
            #expect(rle.cocoBBox == vector.bbox)
            let parsed = try RLE(compressed: vector.compressed, height: m.height, width: m.width)
            #expect(parsed == rle)
            #expect(parsed.mask() == m)
        }
        #expect(RLE(mask: mask(["0110", "0110", "0000"])).counts == [3, 2, 1, 2, 4])
    }

    @Test("pinned pycocotools strings with multi-character and negative-delta counts")
    func pinnedLongVectors() throws {
        // 600 × 500: pixels (0, 0), (499, 599) and row 300, columns 250..<260.
        var big = BinaryMask(width: 500, height: 600)
        big[0, 0] = true
        big[499, 599] = true
        for x in 250..<260 { big[x, 300] = true }
        let bigString = "01khb40li]K00000000000000000cZ\\40"
        #expect(RLE(mask: big).compressed == bigString)
        #expect(try RLE(compressed: bigString, height: 600, width: 500).mask() == big)
        #expect(RLE(mask: big).cocoBBox == [0, 0, 500, 600])
        #expect(RLE(mask: big).area == 12)

        // 100 × 100 with rows 10..<90, columns 20..<70 set.
        let block = BinaryMask.rasterize(box: Box(x0: 20, y0: 10, x1: 70, y1: 90), width: 100, height: 100)
        let blockString = "jn1`2d" + String(repeating: "0", count: 98) + "^m2"
        #expect(RLE(mask: block).compressed == blockString)
        #expect(RLE(box: Box(x0: 20, y0: 10, x1: 70, y1: 90), width: 100, height: 100).compressed == blockString)
        #expect(RLE(mask: block).cocoBBox == [20, 10, 50, 80])
        #expect(RLE(mask: block).area == 4000)
    }

    @Test("runs are validated and kept canonical")
    func validation() throws {
        #expect(try RLE(height: 2, width: 3, counts: [1, 2, 3]).counts == [1, 2, 3])
        #expect(try RLE(height: 2, width: 3, counts: [0, 6]).counts == [0, 6])
        // Zero-length runs merge away; trailing zeros go.
        #expect(try RLE(height: 4, width: 4, counts: [5, 0, 3, 8]).counts == [8, 8])
        #expect(try RLE(height: 4, width: 4, counts: [0, 0, 16]).counts == [16])
        #expect(try RLE(height: 4, width: 4, counts: [16, 0]).counts == [16])
        #expect(try RLE(height: 4, width: 4, counts: [0, 16, 0, 0]).counts == [0, 16])
        #expect(try RLE(height: 2, width: 2, counts: [1, 0, 0, 1, 2]).counts == [1, 1, 2])
        #expect(try RLE(height: 0, width: 5, counts: []).counts == [0])
        #expect(try RLE(height: 0, width: 5, counts: [0]).counts == [0])
        // Equal masks compare equal whatever the runs given.
        #expect(try RLE(height: 4, width: 4, counts: [5, 0, 3, 8]) == RLE(height: 4, width: 4, counts: [8, 8]))

        #expect(throws: GeometryError("RLE runs add up to 5, not 2x3 = 6 pixels")) {
            try RLE(height: 2, width: 3, counts: [1, 4])
        }
        #expect(throws: GeometryError.self) { try RLE(height: 2, width: 3, counts: [1, 6]) }
        #expect(throws: GeometryError.self) { try RLE(height: 2, width: 3, counts: [7, -1]) }
        #expect(throws: GeometryError.self) { try RLE(height: -2, width: 3, counts: []) }
        #expect(throws: GeometryError.self) { try RLE(height: Int.max, width: 3, counts: []) }
        #expect(throws: GeometryError.self) { try RLE(height: 2, width: 3, counts: []) }
        #expect(throws: GeometryError.self) { try RLE(height: 2, width: 3, counts: [Int.max, Int.max]) }
    }

    @Test("malformed compressed strings are errors")
    func malformedStrings() throws {
        #expect(throws: GeometryError.self) { try RLE(compressed: "", height: 2, width: 2) }
        #expect(throws: GeometryError.self) { try RLE(compressed: "3", height: 2, width: 2) }  // sums to 3
        #expect(throws: GeometryError.self) { try RLE(compressed: "p", height: 2, width: 2) }  // above 'o'
        #expect(throws: GeometryError.self) { try RLE(compressed: "/", height: 2, width: 2) }  // below '0'
        #expect(throws: GeometryError.self) { try RLE(compressed: "é", height: 2, width: 2) }
        #expect(throws: GeometryError.self) { try RLE(compressed: "P", height: 2, width: 2) }  // truncated: 0x20 set
        #expect(throws: GeometryError.self) { try RLE(compressed: "O", height: 2, width: 2) }  // -1: negative run
        #expect(throws: GeometryError.self) {
            try RLE(compressed: String(repeating: "P", count: 20) + "0", height: 2, width: 2)  // over-long
        }
        // The fourth count is relative to the second: 1, 1, 1, then 'N' (-2) → 1 - 2 = -1.
        #expect(throws: GeometryError.self) { try RLE(compressed: "111N", height: 2, width: 2) }
        // ... and 'O' (-1) → 1 - 1 = 0, a valid (merged) zero run: 1, 1, 1, 0 sums to 3, not 4.
        #expect(throws: GeometryError.self) { try RLE(compressed: "111O", height: 2, width: 2) }
        #expect(try RLE(compressed: "111O1", height: 5, width: 1).counts == [1, 1, 3])
        #expect(throws: GeometryError.self) { try RLE(compressed: "4", height: -2, width: -2) }
        #expect(try RLE(compressed: "", height: 0, width: 7).counts == [0])
    }

    @Test("mask ↔ counts ↔ compressed string round trips exactly on random masks")
    func randomRoundTrips() throws {
        var generator = SplitMix64(seed: 31)
        for trial in 0..<600 {
            let width = Int.random(in: 1...(trial % 10 == 0 ? 300 : 25), using: &generator)
            let height = Int.random(in: 1...(trial % 10 == 5 ? 300 : 25), using: &generator)
            let density = [0.0, 0.01, 0.3, 0.5, 0.9, 1.0][trial % 6]
            let m =
                trial % 4 == 0
                ? randomMask(width: width, height: height, density: 0, blobs: 1 + trial % 5, using: &generator)
                : randomMask(width: width, height: height, density: density, using: &generator)
            let rle = RLE(mask: m)
            #expect(rle.counts.reduce(0, +) == width * height)
            #expect(rle.counts.dropFirst().allSatisfy { $0 > 0 })
            #expect(rle.mask() == m)
            #expect(try RLE(height: height, width: width, counts: rle.counts) == rle)
            let string = rle.compressed
            #expect(string.utf8.allSatisfy { $0 >= 48 && $0 <= 111 })
            let parsed = try RLE(compressed: string, height: height, width: width)
            #expect(parsed == rle)
            #expect(parsed.compressed == string)
            // Area and bounds from the runs equal those from the decoded mask.
            #expect(rle.area == m.area)
            #expect(rle.bounds == m.bounds)
            #expect(rle.isEmpty == m.isEmpty)
            let expectedBBox: [Double] = m.bounds.map { [$0.x0, $0.y0, $0.width, $0.height] } ?? [0, 0, 0, 0]
            #expect(rle.cocoBBox == expectedBBox)
        }
    }

    @Test("bounds from runs, including runs that wrap across columns")
    func boundsFromRuns() throws {
        // 3 rows × 3 columns; one run from (column 0, row 2) to (column 1, row 0).
        let wrap = try RLE(height: 3, width: 3, counts: [2, 2, 5])
        #expect(wrap.bounds == Box(x0: 0, y0: 0, x1: 2, y1: 3))
        #expect(wrap.mask().bounds == wrap.bounds)
        // A run over three columns covers full rows.
        let long = try RLE(height: 3, width: 4, counts: [2, 5, 5])
        #expect(long.bounds == Box(x0: 0, y0: 0, x1: 3, y1: 3))
        #expect(long.mask().bounds == long.bounds)
        #expect(try RLE(height: 3, width: 4, counts: [12]).bounds == nil)
        #expect(try RLE(height: 0, width: 4, counts: [0]).bounds == nil)
        #expect(try RLE(height: 0, width: 4, counts: [0]).mask().pixels.isEmpty)
        #expect(try RLE(height: 4, width: 0, counts: [0]).mask().height == 4)
        #expect(RLE(mask: BinaryMask(width: 0, height: 3)).counts == [0])
    }

    @Test("RLE of a box straight from runs equals the encoded rasterisation")
    func boxRuns() {
        var generator = SplitMix64(seed: 37)
        for _ in 0..<2000 {
            let width = Int.random(in: 1...30, using: &generator)
            let height = Int.random(in: 1...30, using: &generator)
            let box = randomBox(width: width, height: height, using: &generator)
            #expect(
                RLE(box: box, width: width, height: height)
                    == RLE(mask: BinaryMask.rasterize(box: box, width: width, height: height)))
        }
        let full = RLE(box: Box(x0: 0, y0: 0, x1: 4, y1: 3), width: 4, height: 3)
        #expect(full.counts == [0, 12])
        #expect(RLE(box: Box(x0: 1, y0: 0, x1: 3, y1: 3), width: 4, height: 3).counts == [3, 6, 3])
        #expect(RLE(box: Box(x0: .nan, y0: 0, x1: 3, y1: 3), width: 4, height: 3).counts == [12])
        #expect(RLE(box: Box(x0: 0.6, y0: 0, x1: 1.4, y1: 3), width: 4, height: 3).counts == [12])
        #expect(RLE(box: Box(x0: 0, y0: 0, x1: 1, y1: 1), width: -4, height: 3).counts == [0])
    }

    @Test("set operations on runs agree with masks")
    func runOperations() {
        var generator = SplitMix64(seed: 41)
        for trial in 0..<300 {
            let width = Int.random(in: 1...25, using: &generator)
            let height = Int.random(in: 1...25, using: &generator)
            let a = randomMask(width: width, height: height, density: [0.0, 0.2, 0.7, 1.0][trial % 4], using: &generator)
            let b = randomMask(width: width, height: height, density: 0, blobs: 2, using: &generator)
            let c = randomMask(width: width, height: height, density: 0.5, using: &generator)
            let ra = RLE(mask: a)
            let rb = RLE(mask: b)
            let rc = RLE(mask: c)
            #expect(ra.iou(rb) == a.iou(b))
            #expect(ra.intersectionArea(rb) == BinaryMask.intersection([a, b])!.area)
            #expect(RLE.union([ra, rb, rc]) == RLE(mask: BinaryMask.union([a, b, c])!))
            #expect(RLE.intersection([ra, rb, rc]) == RLE(mask: BinaryMask.intersection([a, b, c])!))
            #expect(RLE.union([ra]) == ra)
        }
        let small = RLE(mask: BinaryMask(width: 2, height: 2))
        let other = RLE(mask: BinaryMask(width: 3, height: 2))
        #expect(RLE.union([]) == nil)
        #expect(RLE.union([small, other]) == nil)
        #expect(RLE.intersection([small, other]) == nil)
        #expect(small.iou(other) == 0)
        #expect(small.iou(small) == 0)
        #expect(small.intersectionArea(other) == 0)
    }

    @Test("JSON is COCO's {size, counts}; uncompressed counts are accepted")
    func codable() throws {
        let rle = RLE(mask: mask(["0110", "0110", "0000"]))
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        #expect(String(decoding: try encoder.encode(rle), as: UTF8.self) == #"{"counts":"32103","size":[3,4]}"#)
        let decoder = JSONDecoder()
        #expect(try decoder.decode(RLE.self, from: Data(#"{"size":[3,4],"counts":"32103"}"#.utf8)) == rle)
        #expect(try decoder.decode(RLE.self, from: Data(#"{"size":[3,4],"counts":[3,2,1,2,4]}"#.utf8)) == rle)
        for bad in [
            #"{"size":[3,4],"counts":"32104"}"#, #"{"size":[3],"counts":"32103"}"#, #"{"size":[3,4]}"#,
            #"{"size":[3,4],"counts":[3,2,1,2]}"#, #"{"size":[3,4],"counts":"3 2"}"#, #"{"counts":"32103"}"#,
            #"{"size":[-3,-4],"counts":"32103"}"#, #"{"size":[3,4],"counts":7}"#,
        ] {
            #expect(throws: DecodingError.self, "\(bad)") { try decoder.decode(RLE.self, from: Data(bad.utf8)) }
        }
    }

    @Test("100k-region scale: runs, not pixels")
    func scale() throws {
        // A 4096 × 4096 mask with a handful of runs: area, bounds and set operations work from
        // the runs, and the compressed string is short.
        let box = RLE(box: Box(x0: 100, y0: 200, x1: 3000, y1: 4000), width: 4096, height: 4096)
        #expect(box.counts.count == 2 * 2900 + 1)
        #expect(box.area == 2900 * 3800)
        #expect(box.bounds == Box(x0: 100, y0: 200, x1: 3000, y1: 4000))
        let other = RLE(box: Box(x0: 0, y0: 0, x1: 4096, y1: 1000), width: 4096, height: 4096)
        #expect(box.intersectionArea(other) == 2900 * 800)
        #expect(RLE.intersection([box, other])?.bounds == Box(x0: 100, y0: 200, x1: 3000, y1: 1000))
        let start = ContinuousClock.now
        for _ in 0..<1000 {
            _ = box.area
            _ = box.bounds
        }
        #expect(ContinuousClock.now - start < .seconds(20))
    }
}
