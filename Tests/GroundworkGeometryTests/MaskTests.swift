import Foundation
import GroundworkCore
import Testing

@testable import GroundworkGeometry

@Suite("BinaryMask and rasterisation")
struct MaskTests {
    @Test("construction validates and normalises; bad sizes never crash")
    func construction() throws {
        let empty = BinaryMask(width: 3, height: 2)
        #expect(empty.pixels == [0, 0, 0, 0, 0, 0])
        #expect(empty.area == 0 && empty.isEmpty && empty.bounds == nil)

        let normalised = try BinaryMask(width: 2, height: 2, pixels: [0, 2, 255, 1])
        #expect(normalised.pixels == [0, 1, 1, 1])

        #expect(throws: GeometryError("mask of 2x2 needs 4 bytes, got 3")) {
            try BinaryMask(width: 2, height: 2, pixels: [0, 0, 0])
        }
        #expect(throws: GeometryError.self) { try BinaryMask(width: -1, height: 2, pixels: []) }
        #expect(throws: GeometryError.self) { try BinaryMask(width: Int.max, height: 2, pixels: []) }

        let negative = BinaryMask(width: -4, height: 3)
        #expect(negative.width == 0 && negative.height == 0 && negative.pixels.isEmpty)
        let overflowing = BinaryMask(width: Int.max, height: Int.max)
        #expect(overflowing.width == 0 && overflowing.pixels.isEmpty)
        let zeroWide = BinaryMask(width: 0, height: 5)
        #expect(zeroWide.height == 5 && zeroWide.area == 0 && zeroWide.bounds == nil)
    }

    @Test("subscript reads and writes in range, ignores the rest")
    func subscripts() {
        var mask = BinaryMask(width: 4, height: 3)
        mask[3, 2] = true
        mask[0, 1] = true
        mask[4, 0] = true  // ignored
        mask[-1, 0] = true  // ignored
        mask[0, 3] = true  // ignored
        #expect(mask.pixels == [0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1])
        #expect(mask[3, 2] && !mask[2, 2] && !mask[99, 99] && !mask[-1, -1])
        mask[3, 2] = false
        #expect(mask.area == 1)
    }

    @Test("area and tight half-open bounds")
    func areaAndBounds() {
        let m = mask([
            "00000",
            "00100",
            "01100",
            "00000",
        ])
        #expect(m.area == 3)
        #expect(m.bounds == Box(x0: 1, y0: 1, x1: 3, y1: 3))
        var single = BinaryMask(width: 4, height: 4)
        single[0, 0] = true
        #expect(single.bounds == Box(x0: 0, y0: 0, x1: 1, y1: 1))
        var corner = BinaryMask(width: 4, height: 3)
        corner[3, 2] = true
        #expect(corner.bounds == Box(x0: 3, y0: 2, x1: 4, y1: 3))
    }

    @Test("operations tolerate pixels edited into a malformed state")
    func malformedPixels() {
        var m = BinaryMask(width: 3, height: 3)
        m.pixels = [0, 7, 0, 0]  // short, and not 0/1
        #expect(m.area == 1)
        #expect(m.bounds == Box(x0: 1, y0: 0, x1: 2, y1: 1))
        #expect(m[1, 0] && !m[2, 2])
        m[2, 2] = true  // beyond the short array: ignored
        var other = BinaryMask(width: 3, height: 3)
        other[1, 0] = true
        other[2, 2] = true
        #expect(m.iou(other) == 0.5)
        #expect(BinaryMask.union([m, other])?.area == 2)
        #expect(BinaryMask.intersection([m, other])?.area == 1)
        #expect(RLE(mask: m).area == 1)

        // Set bytes other than 1 (written straight into `pixels`) encode as set, also where the
        // encoder compares eight bytes at a time.
        var wide = BinaryMask(width: 11, height: 3)
        wide.pixels = [UInt8](repeating: 2, count: 11) + [UInt8](repeating: 1, count: 11) + [UInt8](repeating: 255, count: 11)
        #expect(RLE(mask: wide) == RLE(mask: BinaryMask.rasterize(box: Box(x0: 0, y0: 0, x1: 11, y1: 3), width: 11, height: 3)))
        #expect(wide.area == 33)
    }

    @Test("IoU, union, intersection and majority votes")
    func setOperations() {
        let a = mask(["1100", "1100"])
        let b = mask(["0110", "0110"])
        let c = mask(["0011", "0011"])
        #expect(a.iou(b) == 2.0 / 6.0)
        #expect(a.iou(a) == 1)
        #expect(a.iou(c) == 0)
        #expect(BinaryMask(width: 4, height: 2).iou(BinaryMask(width: 4, height: 2)) == 0)
        #expect(a.iou(BinaryMask(width: 2, height: 4)) == 0)  // sizes differ

        #expect(BinaryMask.union([a, b, c]).map(rows) == ["1111", "1111"])
        #expect(BinaryMask.intersection([a, b]).map(rows) == ["0100", "0100"])
        #expect(BinaryMask.intersection([a, b, c]).map(rows) == ["0000", "0000"])
        // Default: strictly more than half, so 2 of 3.
        #expect(BinaryMask.majority([a, b, c]).map(rows) == ["0110", "0110"])
        #expect(BinaryMask.majority([a, b, c], threshold: 1).map(rows) == ["1111", "1111"])
        #expect(BinaryMask.majority([a, b, c], threshold: 3).map(rows) == ["0000", "0000"])
        #expect(BinaryMask.majority([a, b, c], threshold: 0).map(rows) == ["1111", "1111"])
        #expect(BinaryMask.majority([a, b, c], threshold: 9).map(rows) == ["0000", "0000"])
        // 2 of 4 is not a strict majority: needs 3.
        let d = mask(["1000", "0000"])
        #expect(BinaryMask.majority([a, b, c, d]).map(rows) == ["0000", "0000"])
        #expect(BinaryMask.majority([a, a, b, d]).map(rows) == ["1100", "0100"])
        #expect(BinaryMask.majority([a]).map(rows) == ["1100", "1100"])

        #expect(BinaryMask.union([]) == nil)
        #expect(BinaryMask.intersection([]) == nil)
        #expect(BinaryMask.majority([]) == nil)
        #expect(BinaryMask.union([a, BinaryMask(width: 2, height: 4)]) == nil)
        #expect(BinaryMask.majority([a, b, BinaryMask(width: 4, height: 3)]) == nil)
    }

    @Test("random masks: set operations agree with per-pixel logic")
    func randomSetOperations() {
        var generator = SplitMix64(seed: 19)
        for _ in 0..<100 {
            let width = Int.random(in: 1...20, using: &generator)
            let height = Int.random(in: 1...20, using: &generator)
            let masks = (0..<5).map { _ in
                randomMask(width: width, height: height, density: 0.5, using: &generator)
            }
            let majority = BinaryMask.majority(masks)!
            let union = BinaryMask.union(masks)!
            let intersection = BinaryMask.intersection(masks)!
            for y in 0..<height {
                for x in 0..<width {
                    let votes = masks.filter { $0[x, y] }.count
                    #expect(majority[x, y] == (votes >= 3))
                    #expect(union[x, y] == (votes >= 1))
                    #expect(intersection[x, y] == (votes == 5))
                }
            }
            let shared = zip(masks[0].pixels, masks[1].pixels).filter { $0 == 1 && $1 == 1 }.count
            let either = zip(masks[0].pixels, masks[1].pixels).filter { $0 == 1 || $1 == 1 }.count
            #expect(masks[0].iou(masks[1]) == (either == 0 ? 0 : Double(shared) / Double(either)))
        }
    }

    // MARK: Rasterisation

    @Test("the centre rule: a pixel is set when its centre is in the half-open box")
    func centreRule() {
        // Centres 0.5 and 1.5 both lie in [0.4, 1.6): both pixels.
        #expect(rows(BinaryMask.rasterize(box: Box(x0: 0.4, y0: 0, x1: 1.6, y1: 1), width: 3, height: 1)) == ["110"])
        // Neither centre lies in [0.6, 1.4): nothing, although the box covers 0.8 px².
        #expect(rows(BinaryMask.rasterize(box: Box(x0: 0.6, y0: 0, x1: 1.4, y1: 1), width: 3, height: 1)) == ["000"])
        // Half-open: a centre on the left/top edge is in, on the right/bottom edge is out.
        #expect(rows(BinaryMask.rasterize(box: Box(x0: 0.5, y0: 0, x1: 1.5, y1: 1), width: 3, height: 1)) == ["100"])
        #expect(rows(BinaryMask.rasterize(box: Box(x0: 0, y0: 0.5, x1: 1, y1: 1.5), width: 1, height: 3)) == ["1", "0", "0"])
        // The first pixel, and a box touching the right and bottom edges.
        #expect(rows(BinaryMask.rasterize(box: Box(x0: 0, y0: 0, x1: 1, y1: 1), width: 3, height: 2)) == ["100", "000"])
        #expect(rows(BinaryMask.rasterize(box: Box(x0: 1, y0: 1, x1: 3, y1: 2), width: 3, height: 2)) == ["000", "011"])
        // Boxes partly or wholly outside the image; non-finite and degenerate boxes.
        #expect(rows(BinaryMask.rasterize(box: Box(x0: -5, y0: -5, x1: 1.2, y1: 100), width: 3, height: 2)) == ["100", "100"])
        #expect(BinaryMask.rasterize(box: Box(x0: 3, y0: 0, x1: 9, y1: 2), width: 3, height: 2).isEmpty)
        #expect(BinaryMask.rasterize(box: Box(x0: .nan, y0: 0, x1: 9, y1: 2), width: 3, height: 2).isEmpty)
        #expect(BinaryMask.rasterize(box: Box(x0: -.infinity, y0: 0, x1: .infinity, y1: 2), width: 3, height: 2).isEmpty)
        #expect(BinaryMask.rasterize(box: Box(x0: 2, y0: 0, x1: 1, y1: 2), width: 3, height: 2).isEmpty)
        #expect(BinaryMask.rasterize(box: Box(x0: -1e300, y0: -1e300, x1: 1e300, y1: 1e300), width: 3, height: 2).area == 6)
        #expect(BinaryMask.rasterize(box: Box(x0: 0, y0: 0, x1: 1, y1: 1), width: -3, height: 2).pixels.isEmpty)
    }

    @Test("the centre index helper is exact near half-integers")
    func firstCentre() {
        #expect(BinaryMask.firstCentre(atOrAfter: 0.5, count: 10) == 0)
        #expect(BinaryMask.firstCentre(atOrAfter: 0.5.nextUp, count: 10) == 1)
        #expect(BinaryMask.firstCentre(atOrAfter: 1.5, count: 10) == 1)
        #expect(BinaryMask.firstCentre(atOrAfter: 1.5.nextUp, count: 10) == 2)
        #expect(BinaryMask.firstCentre(atOrAfter: 1.5.nextDown, count: 10) == 1)
        #expect(BinaryMask.firstCentre(atOrAfter: 9.5, count: 10) == 9)
        #expect(BinaryMask.firstCentre(atOrAfter: 9.5.nextUp, count: 10) == 10)
        #expect(BinaryMask.firstCentre(atOrAfter: -1e308, count: 10) == 0)
        #expect(BinaryMask.firstCentre(atOrAfter: 1e308, count: 10) == 10)
        #expect(BinaryMask.firstCentre(atOrAfter: .nan, count: 10) == 10)
        #expect(BinaryMask.firstCentre(atOrAfter: 4_503_599_627_370_495.5, count: Int.max / 2) == 4_503_599_627_370_495)
    }

    @Test("an axis-aligned rectangle polygon rasterises exactly like its box")
    func rectanglesMatchBoxes() {
        var generator = SplitMix64(seed: 23)
        for _ in 0..<2000 {
            let width = Int.random(in: 1...40, using: &generator)
            let height = Int.random(in: 1...40, using: &generator)
            var box = randomBox(width: width, height: height, using: &generator)
            if Bool.random(using: &generator) {
                // Half-integer edges put pixel centres exactly on the boundary.
                box = Box(
                    x0: (box.x0 * 2).rounded() / 2, y0: (box.y0 * 2).rounded() / 2,
                    x1: (box.x1 * 2).rounded() / 2 + 0.5, y1: (box.y1 * 2).rounded() / 2 + 0.5)
            }
            let ring = Polygon(points: [
                Point(x: box.x0, y: box.y0), Point(x: box.x1, y: box.y0), Point(x: box.x1, y: box.y1),
                Point(x: box.x0, y: box.y1),
            ])
            let fromBox = BinaryMask.rasterize(box: box, width: width, height: height)
            #expect(BinaryMask.rasterize(polygons: [ring], width: width, height: height) == fromBox, "\(box.array)")
            let reversed = Polygon(points: ring.points.reversed())
            #expect(BinaryMask.rasterize(polygons: [reversed], width: width, height: height) == fromBox)
            // The direct RLE of a box is the encoding of its rasterisation.
            #expect(RLE(box: box, width: width, height: height) == RLE(mask: fromBox))
        }
    }

    @Test("polygon fill matches a brute-force even-odd centre test on random rings")
    func polygonsAgainstBruteForce() {
        var generator = SplitMix64(seed: 29)
        for trial in 0..<400 {
            let width = Int.random(in: 1...32, using: &generator)
            let height = Int.random(in: 1...32, using: &generator)
            let count = Int.random(in: 3...12, using: &generator)
            let snap = trial % 3 == 0  // half-integer vertices put centres on edges and vertices
            let ring = Polygon(
                points: (0..<count).map { _ in
                    var x = Double.random(in: -4...(Double(width) + 4), using: &generator)
                    var y = Double.random(in: -4...(Double(height) + 4), using: &generator)
                    if snap {
                        x = (x * 2).rounded() / 2
                        y = (y * 2).rounded() / 2
                    }
                    return Point(x: x, y: y)
                })
            let filled = BinaryMask.rasterize(polygons: [ring], width: width, height: height)
            for y in 0..<height {
                for x in 0..<width {
                    #expect(filled[x, y] == bruteForceInside(ring, column: x, row: y), "ring \(ring.flat) at (\(x), \(y))")
                }
            }
        }
    }

    @Test("polygon rasterisation: shapes, unions and bad rings")
    func polygonShapes() throws {
        // A right triangle: centres with x + y < 4 are inside (those on the diagonal are out).
        let triangle = try Polygon(flat: [0, 0, 4, 0, 0, 4])
        #expect(
            rows(BinaryMask.rasterize(polygons: [triangle], width: 4, height: 4)) == [
                "1110",
                "1100",
                "1000",
                "0000",
            ])
        // Concave L.
        let lShape = try Polygon(flat: [0, 0, 2, 0, 2, 2, 4, 2, 4, 4, 0, 4])
        #expect(rows(BinaryMask.rasterize(polygons: [lShape], width: 4, height: 4)) == ["1100", "1100", "1111", "1111"])
        // Bow-tie: even-odd fills both lobes.
        let bowTie = try Polygon(flat: [0, 0, 4, 4, 4, 0, 0, 4])
        // Row 0 crosses at x = 0, 0.5, 3.5, 4: spans [0, 0.5) (no centre) and [3.5, 4) (pixel 3);
        // the half-open rule keeps centres on the left crossing and drops those on the right.
        #expect(rows(BinaryMask.rasterize(polygons: [bowTie], width: 4, height: 4)) == ["0001", "1011", "1011", "0001"])
        let bowTieMask = BinaryMask.rasterize(polygons: [bowTie], width: 4, height: 4)
        for y in 0..<4 {
            for x in 0..<4 { #expect(bowTieMask[x, y] == bruteForceInside(bowTie, column: x, row: y)) }
        }
        // Two rings are unioned, as COCO merges them: an inner ring does not cut a hole.
        let outer = try Polygon(flat: [0, 0, 6, 0, 6, 6, 0, 6])
        let inner = try Polygon(flat: [2, 2, 4, 2, 4, 4, 2, 4])
        #expect(BinaryMask.rasterize(polygons: [outer, inner], width: 6, height: 6).area == 36)
        let left = try Polygon(flat: [0, 0, 2, 0, 2, 2, 0, 2])
        let right = try Polygon(flat: [3, 0, 5, 0, 5, 2, 3, 2])
        #expect(rows(BinaryMask.rasterize(polygons: [left, right], width: 5, height: 2)) == ["11011", "11011"])
        // Rings that cannot be filled are skipped; the others still are.
        let nan = Polygon(points: [Point(x: 0, y: 0), Point(x: .nan, y: 0), Point(x: 1, y: 1)])
        let huge = Polygon(points: [Point(x: 0, y: 0), Point(x: 1e301, y: 0), Point(x: 1, y: 1)])
        let short = Polygon(points: [Point(x: 0, y: 0), Point(x: 3, y: 3)])
        #expect(BinaryMask.rasterize(polygons: [nan, huge, short, left], width: 5, height: 2).area == 4)
        #expect(BinaryMask.rasterize(polygons: [], width: 5, height: 2).isEmpty)
        // Very large but allowed coordinates, mostly outside the image.
        let wide = Polygon(points: [Point(x: -1e300, y: -1e300), Point(x: 1e300, y: -1e300), Point(x: 0, y: 1e300)])
        #expect(BinaryMask.rasterize(polygons: [wide], width: 5, height: 2).area == 10)
        // Degenerate images.
        #expect(BinaryMask.rasterize(polygons: [left], width: 0, height: 2).pixels.isEmpty)
        #expect(BinaryMask.rasterize(polygons: [left], width: -2, height: 2).pixels.isEmpty)
    }

    @Test("pixel area approaches the shoelace area on large shapes")
    func areaConvergence() {
        for (radius, vertices) in [(200.0, 720), (37.3, 9), (120.0, 4)] {
            var points: [Point] = []
            for index in 0..<vertices {
                let angle = Double(index) / Double(vertices) * 2 * Double.pi + 0.1
                points.append(Point(x: 256.3 + radius * cos(angle), y: 255.8 + radius * sin(angle)))
            }
            let ring = Polygon(points: points)
            let pixels = Double(BinaryMask.rasterize(polygons: [ring], width: 512, height: 512).area)
            // Only pixels the boundary passes through can be misclassified by the centre rule.
            #expect(Swift.abs(pixels - ring.area) <= ring.perimeter, "radius \(radius)")
            #expect(Swift.abs(pixels - ring.area) / ring.area < 0.01, "radius \(radius)")
        }
    }
}
