import Foundation
import GroundworkCore
import Testing

@testable import GroundworkGeometry

@Suite("Polygon")
struct PolygonTests {
    static func ring(_ flat: [Double]) -> Polygon {
        try! Polygon(flat: flat)
    }

    @Test("COCO flat lists convert both ways and are validated")
    func flat() throws {
        let ring = try Polygon(flat: [0, 0, 4, 0, 4, 3])
        #expect(ring.points == [Point(x: 0, y: 0), Point(x: 4, y: 0), Point(x: 4, y: 3)])
        #expect(ring.flat == [0, 0, 4, 0, 4, 3])
        #expect(throws: GeometryError("polygon has an odd number of coordinates (5)")) { try Polygon(flat: [0, 0, 1, 1, 2]) }
        #expect(throws: GeometryError("polygon needs at least 3 points, got 2")) { try Polygon(flat: [0, 0, 1, 1]) }
        #expect(throws: GeometryError.self) { try Polygon(flat: []) }
        #expect(throws: GeometryError.self) { try Polygon(flat: [0, 0, 1, .nan, 2, 2]) }
        #expect(throws: GeometryError.self) { try Polygon(flat: [0, 0, 1, .infinity, 2, 2]) }
    }

    @Test("shoelace area, orientation, perimeter and bounds")
    func measures() {
        let square = Self.ring([1, 1, 5, 1, 5, 5, 1, 5])
        #expect(square.area == 16)
        #expect(square.signedArea == 16)  // clockwise on screen (y down)
        #expect(Polygon(points: square.points.reversed()).signedArea == -16)
        #expect(square.perimeter == 16)
        #expect(square.bounds == Box(x0: 1, y0: 1, x1: 5, y1: 5))

        let triangle = Self.ring([0, 0, 4, 0, 0, 3])
        #expect(triangle.area == 6)
        #expect(triangle.perimeter == 12)

        // Concave L: 4×4 square minus its 2×2 top-right quarter.
        let lShape = Self.ring([0, 0, 2, 0, 2, 2, 4, 2, 4, 4, 0, 4])
        #expect(lShape.area == 12)
        #expect(lShape.bounds == Box(x0: 0, y0: 0, x1: 4, y1: 4))

        // A closing vertex equal to the first changes nothing.
        #expect(Self.ring([1, 1, 5, 1, 5, 5, 1, 5, 1, 1]).area == 16)
        // Far from the origin the shoelace keeps its precision.
        let far = Self.ring([1e9, 1e9, 1e9 + 0.5, 1e9, 1e9 + 0.5, 1e9 + 0.25])
        #expect(Swift.abs(far.area - 0.0625) < 1e-12)

        #expect(Polygon(points: []).bounds == nil)
        #expect(Polygon(points: []).area == 0)
        #expect(Polygon(points: [Point(x: 2, y: 3)]).bounds == Box(x0: 2, y0: 3, x1: 2, y1: 3))
        #expect(Polygon(points: [Point(x: 0, y: 0), Point(x: 1, y: 1)]).area == 0)
        #expect(Polygon(points: [Point(x: 0, y: 0), Point(x: .nan, y: 1), Point(x: 2, y: 0)]).bounds == nil)
        #expect(square.scaled(x: 2, y: 0.5).bounds == Box(x0: 2, y0: 0.5, x1: 10, y1: 2.5))
    }

    @Test("self-intersection: simple rings are not")
    func simpleRings() {
        let convex = Self.ring([0, 0, 4, 0, 5, 3, 2, 5, -1, 3])
        #expect(!convex.isSelfIntersecting && convex.isSimple)
        let concave = Self.ring([0, 0, 2, 0, 2, 2, 4, 2, 4, 4, 0, 4])
        #expect(!concave.isSelfIntersecting && concave.isSimple)
        let triangle = Self.ring([0, 0, 4, 0, 0, 3])
        #expect(!triangle.isSelfIntersecting)
        // A deep notch that comes close to, but does not touch, the bottom edge.
        let notch = Self.ring([0, 0, 6, 0, 6, 6, 4, 6, 3, 0.001, 2, 6, 0, 6])
        #expect(!notch.isSelfIntersecting && notch.isSimple)
        // Repeated vertices (closing or consecutive duplicates) are not intersections.
        let repeated = Self.ring([0, 0, 4, 0, 4, 0, 4, 4, 0, 4, 0, 0])
        #expect(!repeated.isSelfIntersecting && repeated.isSimple)
        // A comb: many teeth, all simple.
        var comb: [Double] = [0, 0]
        for tooth in 0..<50 {
            let x = Double(tooth) * 2
            comb += [x + 1, 10, x + 2, 0]
        }
        comb += [100, 20, 0, 20]
        #expect(!Self.ring(comb).isSelfIntersecting)
    }

    @Test("self-intersection: crossings and touches are")
    func intersectingRings() {
        let bowTie = Self.ring([0, 0, 4, 4, 4, 0, 0, 4])
        #expect(bowTie.isSelfIntersecting && !bowTie.isSimple)
        // The notch's tip touches the bottom edge: a vertex on a non-adjacent edge.
        let touching = Self.ring([0, 0, 6, 0, 6, 6, 4, 6, 3, 0, 2, 6, 0, 6])
        #expect(touching.isSelfIntersecting)
        // A figure eight pinched at a vertex visited twice.
        let pinched = Self.ring([0, 0, 2, 2, 0, 4, 4, 4, 2, 2, 4, 0])
        #expect(pinched.isSelfIntersecting)
        // Two squares meeting at a corner, traced as one ring: vertex (2, 2) is visited twice.
        let kissing = Self.ring([0, 0, 2, 0, 2, 2, 4, 2, 4, 4, 2, 4, 2, 2, 0, 2])
        #expect(kissing.isSelfIntersecting)
        // A spike that folds back along its own edge.
        let spike = Self.ring([0, 0, 4, 0, 4, 4, 4, 2, 0, 4])
        #expect(spike.isSelfIntersecting)
        // A collinear triangle folds back on itself.
        #expect(Self.ring([0, 0, 2, 0, 1, 0]).isSelfIntersecting)
        // A vertex on another edge with decimal coordinates: (0.1, 0.1) lies on y = x.
        let exactTouch = Self.ring([0, 0, 0.3, 0.3, 0.3, 1, 0.2, 1, 0.1, 0.1, -1, 1])
        #expect(exactTouch.isSelfIntersecting)
        // Collinear overlapping non-adjacent edges.
        let overlap = Self.ring([0, 0, 4, 0, 4, 2, 3, 2, 3, 0, 1, 0, 1, -2, 0, -2])
        #expect(overlap.isSelfIntersecting)
        // Non-finite rings cannot be certified simple.
        #expect(Polygon(points: [Point(x: 0, y: 0), Point(x: .nan, y: 1), Point(x: 2, y: 0)]).isSelfIntersecting)
        // Fewer than 3 distinct vertices: not a ring, not "self-intersecting", not simple.
        let twoPoints = Polygon(points: [Point(x: 0, y: 0), Point(x: 1, y: 1), Point(x: 0, y: 0)])
        #expect(!twoPoints.isSelfIntersecting && !twoPoints.isSimple)
    }

    @Test("self-intersection works at extreme magnitudes")
    func extremeMagnitudes() {
        for scale in [1e-300, 1e-150, 1e150, 1e300] {
            let bowTie = Self.ring([0, 0, 4, 4, 4, 0, 0, 4]).scaled(x: scale, y: scale)
            #expect(bowTie.isSelfIntersecting, "scale \(scale)")
            let square = Self.ring([0, 0, 4, 0, 4, 4, 0, 4]).scaled(x: scale, y: scale)
            #expect(!square.isSelfIntersecting, "scale \(scale)")
        }
    }

    /// Orientation sign of integer points, exactly, for the brute-force reference.
    static func integerOrientation(_ a: (Int, Int), _ b: (Int, Int), _ c: (Int, Int)) -> Int {
        let determinant = (a.0 - c.0) * (b.1 - c.1) - (a.1 - c.1) * (b.0 - c.0)
        return determinant > 0 ? 1 : determinant < 0 ? -1 : 0
    }

    /// Reference: all pairs, exact integer predicates.
    static func bruteForceSelfIntersecting(_ input: [(Int, Int)]) -> Bool {
        var ring: [(Int, Int)] = []
        for point in input where ring.last.map({ $0 != point }) ?? true { ring.append(point) }
        while ring.count > 1, ring.last! == ring.first! { ring.removeLast() }
        let n = ring.count
        guard n >= 3 else { return false }
        func onSegment(_ a: (Int, Int), _ b: (Int, Int), _ p: (Int, Int)) -> Bool {
            min(a.0, b.0) <= p.0 && p.0 <= max(a.0, b.0) && min(a.1, b.1) <= p.1 && p.1 <= max(a.1, b.1)
        }
        func intersect(_ p1: (Int, Int), _ p2: (Int, Int), _ p3: (Int, Int), _ p4: (Int, Int)) -> Bool {
            let d1 = integerOrientation(p3, p4, p1)
            let d2 = integerOrientation(p3, p4, p2)
            let d3 = integerOrientation(p1, p2, p3)
            let d4 = integerOrientation(p1, p2, p4)
            if d1 * d2 < 0 && d3 * d4 < 0 { return true }
            return (d1 == 0 && onSegment(p3, p4, p1)) || (d2 == 0 && onSegment(p3, p4, p2))
                || (d3 == 0 && onSegment(p1, p2, p3)) || (d4 == 0 && onSegment(p1, p2, p4))
        }
        for i in 0..<n {
            // Adjacent edges (i-1, i) and (i, i+1) overlapping beyond vertex i.
            let a = ring[(i + n - 1) % n]
            let b = ring[i]
            let c = ring[(i + 1) % n]
            if integerOrientation(a, b, c) == 0 && (a.0 - b.0) * (c.0 - b.0) + (a.1 - b.1) * (c.1 - b.1) > 0 {
                return true
            }
            for j in (i + 1)..<n where (i + 1) % n != j && (j + 1) % n != i {
                if intersect(ring[i], ring[(i + 1) % n], ring[j], ring[(j + 1) % n]) { return true }
            }
        }
        return false
    }

    @Test("the sweep agrees with an all-pairs integer reference on random small rings")
    func randomAgainstBruteForce() {
        var generator = SplitMix64(seed: 11)
        var intersecting = 0
        for trial in 0..<3000 {
            let count = Int.random(in: 3...9, using: &generator)
            let grid = trial % 2 == 0 ? 4 : 12  // a small grid makes touching and collinear cases common
            let points = (0..<count).map { _ in
                (Int.random(in: 0...grid, using: &generator), Int.random(in: 0...grid, using: &generator))
            }
            // Offset and scale by non-dyadic amounts are not exact; use a dyadic scale instead.
            let ring = Polygon(points: points.map { Point(x: Double($0.0) * 0.125 + 1024, y: Double($0.1) * 0.125 - 3) })
            let expected = Self.bruteForceSelfIntersecting(points)
            #expect(ring.isSelfIntersecting == expected, "ring \(points)")
            if expected { intersecting += 1 }
        }
        #expect(intersecting > 500 && intersecting < 2900)
    }

    @Test("orientation is exact on near-collinear points")
    func exactOrientation() {
        // Shewchuk's classic experiment: a = (0.5, 0.5) nudged by a few ulps, b ≈ (12, 12) and
        // c ≈ (24, 24). Plain floating point gets many of these signs wrong. Every coordinate
        // is an integer multiple of 2^-53, so the exact sign comes from Int128 arithmetic.
        var generator = SplitMix64(seed: 5)
        var wrongWithPlainArithmetic = 0
        for _ in 0..<20000 {
            let ai = (Int.random(in: 0..<256, using: &generator), Int.random(in: 0..<256, using: &generator))
            let bi = (Int.random(in: -8...8, using: &generator), Int.random(in: -8...8, using: &generator))
            let ci = (Int.random(in: -8...8, using: &generator), Int.random(in: -8...8, using: &generator))
            let a = Point(x: 0.5 + Double(ai.0) * 0x1p-53, y: 0.5 + Double(ai.1) * 0x1p-53)
            let b = Point(x: 12 + Double(bi.0) * 0x1p-49, y: 12 + Double(bi.1) * 0x1p-49)
            let c = Point(x: 24 + Double(ci.0) * 0x1p-48, y: 24 + Double(ci.1) * 0x1p-48)
            // The same points in units of 2^-53.
            let unit = Int128(1) << 53
            let ax = unit / 2 + Int128(ai.0)
            let ay = unit / 2 + Int128(ai.1)
            let bx = 12 * unit + 16 * Int128(bi.0)
            let by = 12 * unit + 16 * Int128(bi.1)
            let cx = 24 * unit + 32 * Int128(ci.0)
            let cy = 24 * unit + 32 * Int128(ci.1)
            let determinant = (ax - cx) * (by - cy) - (ay - cy) * (bx - cx)
            let expected = determinant > 0 ? 1 : determinant < 0 ? -1 : 0
            #expect(Predicates.orientation(a, b, c) == expected, "\(ai) \(bi) \(ci)")
            let naive = (a.x - c.x) * (b.y - c.y) - (a.y - c.y) * (b.x - c.x)
            if (naive > 0 ? 1 : naive < 0 ? -1 : 0) != expected { wrongWithPlainArithmetic += 1 }
        }
        // The test is only meaningful if plain floating point gets some of these wrong.
        #expect(wrongWithPlainArithmetic > 100)
    }

    @Test("self-intersection of a 10,000-vertex ring is fast enough")
    func largeRings() {
        let n = 10_000
        var circle: [Point] = []
        var star: [Point] = []
        for index in 0..<n {
            let angle = Double(index) / Double(n) * 2 * Double.pi
            circle.append(Point(x: 500 + 400 * cos(angle), y: 500 + 400 * sin(angle)))
            let radius = index % 2 == 0 ? 400.0 : 100.0
            star.append(Point(x: 500 + radius * cos(angle), y: 500 + radius * sin(angle)))
        }
        let start = ContinuousClock.now
        #expect(!Polygon(points: circle).isSelfIntersecting)
        #expect(!Polygon(points: star).isSelfIntersecting)
        // Swap two far-apart vertices: the ring now crosses itself.
        var crossed = circle
        crossed.swapAt(10, 5000)
        #expect(Polygon(points: crossed).isSelfIntersecting)
        #expect(ContinuousClock.now - start < .seconds(30))
    }

    @Test("JSON is the flat array, decoded through init(flat:)")
    func codable() throws {
        let ring = Self.ring([0, 0, 4.5, 0, 4.5, 3])
        let data = try JSONEncoder().encode(ring)
        #expect(String(decoding: data, as: UTF8.self) == "[0,0,4.5,0,4.5,3]")
        #expect(try JSONDecoder().decode(Polygon.self, from: data) == ring)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Polygon.self, from: Data("[0,0,1,1]".utf8)) }
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Polygon.self, from: Data("[0,0,1,1,2]".utf8)) }
    }
}
