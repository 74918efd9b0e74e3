import Foundation
import GroundworkCore
import Testing

@testable import GroundworkGeometry

@Suite("Box")
struct BoxTests {
    @Test("size, area and well-formedness")
    func sizes() {
        let box = Box(x0: 1, y0: 2, x1: 4, y1: 8)
        #expect(box.width == 3)
        #expect(box.height == 6)
        #expect(box.area == 18)
        #expect(box.isFinite && box.hasPositiveArea)
        #expect(box.array == [1, 2, 4, 8])
        #expect(box.centre == Point(x: 2.5, y: 5))

        let firstPixel = Box(x0: 0, y0: 0, x1: 1, y1: 1)
        #expect(firstPixel.area == 1)

        let flipped = Box(x0: 4, y0: 2, x1: 1, y1: 8)
        #expect(flipped.width == 0 && flipped.area == 0 && !flipped.hasPositiveArea)
        let line = Box(x0: 1, y0: 2, x1: 1, y1: 8)
        #expect(line.area == 0 && !line.hasPositiveArea && line.isFinite)

        let nan = Box(x0: .nan, y0: 0, x1: 1, y1: 1)
        #expect(!nan.isFinite && !nan.hasPositiveArea)
        #expect(nan.width == 0 && nan.height == 0 && nan.area == 0)
        let infinite = Box(x0: 0, y0: 0, x1: .infinity, y1: 1)
        #expect(!infinite.isFinite && infinite.area == 0)
    }

    @Test("pixel ranges map to half-open boxes")
    func pixelRanges() {
        #expect(Box(columns: 0..<1, rows: 0..<1) == Box(x0: 0, y0: 0, x1: 1, y1: 1))
        #expect(Box(columns: 3..<7, rows: 2..<5).array == [3, 2, 7, 5])
        #expect(Point.centre(ofPixelColumn: 0, row: 0) == Point(x: 0.5, y: 0.5))
        #expect(Point.centre(ofPixelColumn: 9, row: 4) == Point(x: 9.5, y: 4.5))
    }

    @Test("intersection, union and IoU")
    func setOperations() {
        let a = Box(x0: 0, y0: 0, x1: 2, y1: 2)
        let b = Box(x0: 1, y0: 1, x1: 3, y1: 3)
        #expect(a.intersection(b) == Box(x0: 1, y0: 1, x1: 2, y1: 2))
        #expect(a.union(b) == Box(x0: 0, y0: 0, x1: 3, y1: 3))
        #expect(Swift.abs(a.iou(b) - 1.0 / 7.0) < 1e-15)
        #expect(a.iou(a) == 1)

        let unitA = Box(x0: 0, y0: 0, x1: 1, y1: 1)
        let unitB = Box(x0: 0.5, y0: 0, x1: 1.5, y1: 1)
        #expect(Swift.abs(unitA.iou(unitB) - 1.0 / 3.0) < 1e-15)

        // Touching edges share no area.
        let right = Box(x0: 2, y0: 0, x1: 4, y1: 2)
        #expect(a.intersection(right) == nil)
        #expect(a.iou(right) == 0)
        // Disjoint, degenerate and non-finite boxes.
        #expect(a.iou(Box(x0: 5, y0: 5, x1: 6, y1: 6)) == 0)
        #expect(a.iou(Box(x0: 1, y0: 1, x1: 1, y1: 1)) == 0)
        #expect(a.iou(Box(x0: .nan, y0: 0, x1: 1, y1: 1)) == 0)
        #expect(a.intersection(Box(x0: 0, y0: 0, x1: .infinity, y1: 1)) == nil)
        // NaN coordinates fall back to the other box's.
        #expect(a.union(Box(x0: .nan, y0: 1, x1: 5, y1: .nan)) == Box(x0: 0, y0: 0, x1: 5, y1: 2))
        // Huge boxes: no NaN escapes.
        let huge = Box(x0: -1e308, y0: -1e308, x1: 1e308, y1: 1e308)
        let iou = huge.iou(Box(x0: 0, y0: 0, x1: 1e308, y1: 1e308))
        #expect(iou >= 0 && iou <= 1)
    }

    @Test("IoU is symmetric and in [0, 1] on random boxes")
    func randomIoU() {
        var generator = SplitMix64(seed: 7)
        for _ in 0..<2000 {
            let a = randomBox(width: 50, height: 30, using: &generator)
            let b = randomBox(width: 50, height: 30, using: &generator)
            let forward = a.iou(b)
            #expect(forward == b.iou(a))
            #expect(forward >= 0 && forward <= 1)
            if let overlap = a.intersection(b) {
                #expect(overlap.area <= Swift.min(a.area, b.area) + 1e-9)
                #expect(forward > 0)
            } else {
                #expect(forward == 0)
            }
            let union = a.union(b)
            #expect(union.x0 <= a.x0 && union.x0 <= b.x0 && union.x1 >= a.x1 && union.x1 >= b.x1)
        }
    }

    @Test("inside and clipping, with the right edge at x1 = width")
    func insideAndClipping() {
        let full = Box(x0: 0, y0: 0, x1: 640, y1: 480)
        #expect(full.isInside(width: 640, height: 480))
        #expect(!Box(x0: 0, y0: 0, x1: 640.5, y1: 480).isInside(width: 640, height: 480))
        #expect(Box(x0: -1e-10, y0: 0, x1: 640 + 1e-10, y1: 480).isInside(width: 640, height: 480))
        #expect(!Box(x0: -1e-6, y0: 0, x1: 10, y1: 10).isInside(width: 640, height: 480))
        #expect(Box(x0: -1e-6, y0: 0, x1: 10, y1: 10).isInside(width: 640, height: 480, tolerance: 1e-3))
        #expect(!Box(x0: .nan, y0: 0, x1: 10, y1: 10).isInside(width: 640, height: 480))
        #expect(!Box(x0: 0, y0: 0, x1: 1, y1: 1).isInside(width: -1, height: 5))

        #expect(Box(x0: -5, y0: -5, x1: 10, y1: 700).clipped(width: 640, height: 480) == Box(x0: 0, y0: 0, x1: 10, y1: 480))
        #expect(
            Box(x0: 630, y0: 470, x1: 700, y1: 500).clipped(width: 640, height: 480) == Box(x0: 630, y0: 470, x1: 640, y1: 480))
        #expect(Box(x0: 640, y0: 0, x1: 700, y1: 10).clipped(width: 640, height: 480) == nil)
        #expect(Box(x0: -10, y0: -10, x1: 0, y1: 0).clipped(width: 640, height: 480) == nil)
        #expect(Box(x0: 0, y0: 0, x1: 1, y1: 1).clipped(width: 0, height: 10) == nil)
        #expect(Box(x0: .nan, y0: 0, x1: 1, y1: 1).clipped(width: 10, height: 10) == nil)
    }

    @Test("scaling, offsets and containment")
    func transforms() {
        let box = Box(x0: 10, y0: 20, x1: 30, y1: 40)
        #expect(box.scaled(x: 0.5, y: 2) == Box(x0: 5, y0: 40, x1: 15, y1: 80))
        #expect(box.offsetBy(dx: -10, dy: 1) == Box(x0: 0, y0: 21, x1: 20, y1: 41))
        #expect(box.contains(Point(x: 10, y: 20)))
        #expect(!box.contains(Point(x: 30, y: 25)))
        #expect(!box.contains(Point(x: 15, y: 40)))
    }

    @Test("JSON is the array [x0, y0, x1, y1]")
    func codable() throws {
        let box = Box(x0: 0.5, y0: 1, x1: 2.25, y1: 3)
        let data = try JSONEncoder().encode(box)
        #expect(String(decoding: data, as: UTF8.self) == "[0.5,1,2.25,3]")
        #expect(try JSONDecoder().decode(Box.self, from: data) == box)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Box.self, from: Data("[1,2,3]".utf8)) }
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Box.self, from: Data("[1,2,3,4,5]".utf8)) }
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Box.self, from: Data("{\"x0\":1}".utf8)) }

        let point = Point(x: 1.5, y: -2)
        let pointData = try JSONEncoder().encode(point)
        #expect(String(decoding: pointData, as: UTF8.self) == "[1.5,-2]")
        #expect(try JSONDecoder().decode(Point.self, from: pointData) == point)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Point.self, from: Data("[1,2,3]".utf8)) }
    }

    @Test("errors describe themselves by their message")
    func errorDescription() {
        let error = GeometryError("polygon needs at least 3 points, got 2")
        #expect(error.description == error.message)
        #expect(error == GeometryError("polygon needs at least 3 points, got 2"))
    }
}
