import Foundation
import Testing

@testable import GroundworkGeometry

@Suite("Geometry")
struct GeometryTests {
    static let box = Geometry.box(Box(x0: 1, y0: 2, x1: 4.5, y1: 6))
    static let polygon = Geometry.polygon([
        try! Polygon(flat: [0, 0, 4, 0, 4, 4]), try! Polygon(flat: [6, 6, 8, 6, 8, 9, 6, 9]),
    ])
    static let mask = Geometry.mask(RLE(mask: GroundworkGeometryTests.mask(["0110", "0110", "0000"])))

    @Test("kind, tight box and area")
    func properties() {
        #expect(Self.box.kind == "box")
        #expect(Self.polygon.kind == "polygon")
        #expect(Self.mask.kind == "mask")
        #expect(Self.box.tightBox == Box(x0: 1, y0: 2, x1: 4.5, y1: 6))
        #expect(Self.polygon.tightBox == Box(x0: 0, y0: 0, x1: 8, y1: 9))
        #expect(Self.mask.tightBox == Box(x0: 1, y0: 0, x1: 3, y1: 2))
        #expect(Self.box.area == 14)
        #expect(Self.polygon.area == 8 + 6)
        #expect(Self.mask.area == 4)
        #expect(Geometry.polygon([]).tightBox == nil)
        #expect(
            Geometry.polygon([Polygon(points: []), try! Polygon(flat: [0, 0, 1, 0, 1, 1])]).tightBox
                == Box(x0: 0, y0: 0, x1: 1, y1: 1))
        #expect(Geometry.polygon([Polygon(points: [Point(x: .nan, y: 0)])]).tightBox == nil)
        #expect(Geometry.mask(RLE(mask: BinaryMask(width: 3, height: 3))).tightBox == nil)
    }

    @Test("rasterisation and RLE of every kind")
    func rasterisation() {
        #expect(rows(Self.mask.rasterize(width: 4, height: 3)) == ["0110", "0110", "0000"])
        // A mask of another size is a data error: empty, of the requested size.
        let mismatched = Self.mask.rasterize(width: 5, height: 3)
        #expect(mismatched.width == 5 && mismatched.isEmpty)
        #expect(Self.mask.rle(width: 5, height: 3).isEmpty)
        #expect(Self.mask.rle(width: 4, height: 3) == RLE(mask: GroundworkGeometryTests.mask(["0110", "0110", "0000"])))
        let boxMask = Self.box.rasterize(width: 8, height: 8)
        #expect(boxMask == BinaryMask.rasterize(box: Box(x0: 1, y0: 2, x1: 4.5, y1: 6), width: 8, height: 8))
        #expect(boxMask.area == 3 * 4)  // column centres 1.5, 2.5, 3.5 lie in [1, 4.5); rows 2..<6
        #expect(Self.box.rle(width: 8, height: 8) == RLE(mask: boxMask))
        let polygonMask = Self.polygon.rasterize(width: 10, height: 10)
        #expect(polygonMask.area == 10 + 6)  // triangle: 4 + 3 + 2 + 1 centres; rectangle: 2 × 3
        #expect(Self.polygon.rle(width: 10, height: 10) == RLE(mask: polygonMask))
    }

    @Test("JSON shapes are exactly the documented ones")
    func encoding() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        func json(_ geometry: Geometry) throws -> String { String(decoding: try encoder.encode(geometry), as: UTF8.self) }
        #expect(try json(Self.box) == #"{"box":[1,2,4.5,6],"type":"box"}"#)
        #expect(try json(Self.polygon) == #"{"polygons":[[0,0,4,0,4,4],[6,6,8,6,8,9,6,9]],"type":"polygon"}"#)
        #expect(try json(Self.mask) == #"{"rle":{"counts":"32103","size":[3,4]},"type":"mask"}"#)
        for geometry in [Self.box, Self.polygon, Self.mask] {
            #expect(try JSONDecoder().decode(Geometry.self, from: encoder.encode(geometry)) == geometry)
        }
        // COCO's uncompressed counts decode too, and re-encode compressed.
        let uncompressed = #"{"type":"mask","rle":{"size":[3,4],"counts":[3,2,1,2,4]}}"#
        #expect(try JSONDecoder().decode(Geometry.self, from: Data(uncompressed.utf8)) == Self.mask)
    }

    @Test(
        "decoding rejects malformed shapes",
        arguments: [
            #"{"type":"circle","box":[0,0,1,1]}"#,
            #"{"box":[0,0,1,1]}"#,
            #"{"type":"box","box":[0,0,0,1]}"#,
            #"{"type":"box","box":[2,0,1,1]}"#,
            #"{"type":"box","box":[0,0,1]}"#,
            #"{"type":"box"}"#,
            #"{"type":"polygon","polygons":[]}"#,
            #"{"type":"polygon","polygons":[[0,0,1,1]]}"#,
            #"{"type":"polygon","polygons":[[0,0,1,1,2]]}"#,
            #"{"type":"polygon","polygons":[0,0,1,1,2,2]}"#,
            #"{"type":"mask","rle":{"size":[3,4],"counts":"321"}}"#,
            #"{"type":"mask","rle":{"size":[3,4],"counts":"32{03"}}"#,
            #"{"type":"mask","rle":{"counts":"32103"}}"#,
            #"{"type":"mask"}"#,
            #"[1,2,3,4]"#,
        ])
    func badJSON(_ text: String) {
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Geometry.self, from: Data(text.utf8)) }
    }

    @Test("validation against the image")
    func validation() throws {
        try Self.box.validate(imageWidth: 8, imageHeight: 8)
        try Self.polygon.validate(imageWidth: 8, imageHeight: 9)
        try Self.mask.validate(imageWidth: 4, imageHeight: 3)
        try Geometry.box(Box(x0: 0, y0: 0, x1: 8 + 1e-12, y1: 8)).validate(imageWidth: 8, imageHeight: 8)

        func problem(_ geometry: Geometry, _ width: Int, _ height: Int) -> String? {
            do {
                try geometry.validate(imageWidth: width, imageHeight: height)
                return nil
            } catch {
                return error.message
            }
        }
        #expect(problem(Self.box, 4, 8) == "box [1.0, 2.0, 4.5, 6.0] is outside the 4x8 image")
        #expect(problem(Self.box, 0, 8) == "image size 0x8 is not positive")
        #expect(problem(.box(Box(x0: 1, y0: 1, x1: 1, y1: 2)), 8, 8) != nil)
        #expect(problem(.box(Box(x0: .nan, y0: 1, x1: 1, y1: 2)), 8, 8) == "box [nan, 1.0, 1.0, 2.0] is not finite")
        #expect(problem(Self.polygon, 8, 8)?.hasPrefix("polygon ring 1 extends outside the 8x8 image") == true)
        #expect(problem(.polygon([]), 8, 8) == "polygon region has no rings")
        #expect(problem(.polygon([Polygon(points: [Point(x: 0, y: 0), Point(x: 1, y: 1)])]), 8, 8) != nil)
        let collinear = try Polygon(flat: [0, 0, 1, 1, 2, 2])
        #expect(problem(.polygon([collinear]), 8, 8) == "polygon ring 0 has zero area")
        #expect(problem(.polygon([Polygon(points: [Point(x: 0, y: 0), Point(x: .nan, y: 1), Point(x: 2, y: 0)])]), 8, 8) != nil)
        #expect(problem(Self.mask, 3, 4) == "mask is 4x3 but the image is 3x4")
        #expect(problem(.mask(RLE(mask: BinaryMask(width: 4, height: 3))), 4, 3) == "mask has no set pixel")
    }
}
