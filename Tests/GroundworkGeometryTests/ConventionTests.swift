import GroundworkCore
import Testing

@testable import GroundworkGeometry

@Suite("Box and point conventions")
struct ConventionTests {
    /// Image sizes used for every round trip: square, landscape, portrait, and a thin strip.
    static let sizes: [(Int, Int)] = [(64, 64), (640, 480), (333, 1021), (1, 7)]

    /// Converts `box` to the convention and back, both ways, to 1e-9.
    func expectRoundTrip(_ box: Box, _ convention: BoxConvention, width: Int, height: Int) throws {
        let values = try convention.fromBox(box, imageWidth: width, imageHeight: height)
        let back = try convention.toBox(values, imageWidth: width, imageHeight: height)
        #expect(isClose(back.array, box.array), "\(convention) \(box.array) → \(values) → \(back.array)")
        let again = try convention.fromBox(back, imageWidth: width, imageHeight: height)
        #expect(isClose(again, values), "\(convention) \(values) → \(back.array) → \(again)")
    }

    @Test(
        "every convention round-trips the first pixel, the bottom-right pixel, the whole image", arguments: BoxConvention.allCases
    )
    func edgeBoxes(_ convention: BoxConvention) throws {
        for (width, height) in Self.sizes {
            let w = Double(width)
            let h = Double(height)
            try expectRoundTrip(Box(x0: 0, y0: 0, x1: 1, y1: 1), convention, width: width, height: height)
            try expectRoundTrip(Box(x0: w - 1, y0: h - 1, x1: w, y1: h), convention, width: width, height: height)
            try expectRoundTrip(Box(x0: 0, y0: 0, x1: w, y1: h), convention, width: width, height: height)
            try expectRoundTrip(Box(x0: 0.25, y0: h / 3, x1: w, y1: h), convention, width: width, height: height)
        }
    }

    @Test("every convention round-trips random boxes on non-square images", arguments: BoxConvention.allCases)
    func randomBoxes(_ convention: BoxConvention) throws {
        var generator = SplitMix64(seed: 42)
        for (width, height) in Self.sizes {
            for _ in 0..<500 {
                let box = randomBox(width: width, height: height, using: &generator)
                try expectRoundTrip(box, convention, width: width, height: height)
            }
        }
    }

    @Test("known values for each convention")
    func knownValues() throws {
        // Groundwork / CVAT corners.
        #expect(try BoxConvention.xyxy.toBox([0, 0, 1, 1], imageWidth: nil, imageHeight: nil).array == [0, 0, 1, 1])
        // COCO [x, y, w, h].
        #expect(try BoxConvention.cocoXYWH.toBox([10, 20, 30, 40], imageWidth: nil, imageHeight: nil).array == [10, 20, 40, 60])
        #expect(
            try BoxConvention.cocoXYWH.fromBox(Box(x0: 0, y0: 0, x1: 1, y1: 1), imageWidth: nil, imageHeight: nil) == [
                0, 0, 1, 1,
            ])
        // Pascal VOC: 1-based inclusive.
        #expect(try BoxConvention.vocInclusive.toBox([1, 1, 1, 1], imageWidth: nil, imageHeight: nil).array == [0, 0, 1, 1])
        #expect(
            try BoxConvention.vocInclusive.fromBox(Box(x0: 0, y0: 0, x1: 1, y1: 1), imageWidth: nil, imageHeight: nil) == [
                1, 1, 1, 1,
            ])
        #expect(
            try BoxConvention.vocInclusive.toBox([1, 1, 640, 480], imageWidth: nil, imageHeight: nil).array == [0, 0, 640, 480])
        #expect(
            try BoxConvention.vocInclusive.toBox([48, 240, 195, 371], imageWidth: nil, imageHeight: nil).array == [
                47, 239, 195, 371,
            ])
        // YOLO on a 640 × 480 image.
        #expect(
            try BoxConvention.yoloNormalized.fromBox(Box(x0: 0, y0: 0, x1: 640, y1: 480), imageWidth: 640, imageHeight: 480) == [
                0.5, 0.5, 1, 1,
            ])
        #expect(
            try BoxConvention.yoloNormalized.toBox([0.5, 0.5, 0.25, 0.5], imageWidth: 640, imageHeight: 480).array == [
                240, 120, 400, 360,
            ])
        let firstPixel = try BoxConvention.yoloNormalized.fromBox(
            Box(x0: 0, y0: 0, x1: 1, y1: 1), imageWidth: 640, imageHeight: 480)
        let expectedFirst: [Double] = [0.5 / 640, 0.5 / 480, 1.0 / 640, 1.0 / 480]
        #expect(isClose(firstPixel, expectedFirst, tolerance: 1e-15))
        let lastValues: [Double] = [639.5 / 640, 479.5 / 480, 1.0 / 640, 1.0 / 480]
        let lastPixel = try BoxConvention.yoloNormalized.toBox(lastValues, imageWidth: 640, imageHeight: 480)
        let expectedLast: [Double] = [639, 479, 640, 480]
        #expect(isClose(lastPixel.array, expectedLast))
        // Label Studio percent on a 200 × 100 image.
        #expect(
            try BoxConvention.labelStudioPercent.toBox([0, 0, 100, 100], imageWidth: 200, imageHeight: 100).array == [
                0, 0, 200, 100,
            ])
        #expect(
            try BoxConvention.labelStudioPercent.toBox([10, 20, 30, 40], imageWidth: 200, imageHeight: 100).array == [
                20, 20, 80, 60,
            ])
        #expect(
            try BoxConvention.labelStudioPercent.fromBox(
                Box(x0: 199, y0: 99, x1: 200, y1: 100), imageWidth: 200, imageHeight: 100) == [99.5, 99, 0.5, 1])
    }

    @Test("raw values are the stable names stored in projects")
    func rawValues() {
        #expect(BoxConvention.allCases.map(\.rawValue) == ["xyxy", "coco_xywh", "voc", "yolo", "label_studio"])
        #expect(BoxConvention.allCases.filter(\.needsImageSize) == [.yoloNormalized, .labelStudioPercent])
        #expect(PointConvention.allCases.map(\.rawValue) == ["xy", "yolo", "label_studio"])
    }

    @Test("bad input is an error, never a crash", arguments: BoxConvention.allCases)
    func badInput(_ convention: BoxConvention) throws {
        let size = convention.needsImageSize ? 100 : nil
        #expect(throws: GeometryError.self) { try convention.toBox([1, 2, 3], imageWidth: size, imageHeight: size) }
        #expect(throws: GeometryError.self) { try convention.toBox([], imageWidth: size, imageHeight: size) }
        #expect(throws: GeometryError.self) { try convention.toBox([0, 0, 1, 1, 1], imageWidth: size, imageHeight: size) }
        #expect(throws: GeometryError.self) { try convention.toBox([.nan, 0, 1, 1], imageWidth: size, imageHeight: size) }
        #expect(throws: GeometryError.self) { try convention.toBox([0, 0, .infinity, 1], imageWidth: size, imageHeight: size) }
        // Degenerate: zero or negative extent in every convention's own terms.
        let degenerate: [Double] =
            switch convention {
            case .xyxy: [5, 5, 5, 6]
            case .cocoXYWH, .yoloNormalized, .labelStudioPercent: [0.1, 0.1, 0, 0.2]
            case .vocInclusive: [5, 5, 4, 6]
            }
        #expect(throws: GeometryError.self) { try convention.toBox(degenerate, imageWidth: size, imageHeight: size) }
        let negative: [Double] =
            switch convention {
            case .xyxy: [5, 5, 4, 6]
            case .cocoXYWH, .yoloNormalized, .labelStudioPercent: [0.1, 0.1, -0.1, 0.2]
            case .vocInclusive: [5, 5, 3, 6]
            }
        #expect(throws: GeometryError.self) { try convention.toBox(negative, imageWidth: size, imageHeight: size) }
        // Arithmetic that overflows to infinity is caught.
        if convention != .xyxy && convention != .vocInclusive {
            #expect(throws: GeometryError.self) {
                try convention.toBox([1e308, 1e308, 1.7e308, 1.7e308], imageWidth: size, imageHeight: size)
            }
        }
        // The reverse direction rejects boxes that are not well formed.
        #expect(throws: GeometryError.self) {
            try convention.fromBox(Box(x0: 2, y0: 0, x1: 1, y1: 1), imageWidth: size, imageHeight: size)
        }
        #expect(throws: GeometryError.self) {
            try convention.fromBox(Box(x0: .nan, y0: 0, x1: 1, y1: 1), imageWidth: size, imageHeight: size)
        }

        if convention.needsImageSize {
            #expect(throws: GeometryError.self) { try convention.toBox([0.5, 0.5, 0.1, 0.1], imageWidth: nil, imageHeight: 100) }
            #expect(throws: GeometryError.self) { try convention.toBox([0.5, 0.5, 0.1, 0.1], imageWidth: 100, imageHeight: nil) }
            #expect(throws: GeometryError.self) { try convention.toBox([0.5, 0.5, 0.1, 0.1], imageWidth: 0, imageHeight: 100) }
            #expect(throws: GeometryError.self) { try convention.toBox([0.5, 0.5, 0.1, 0.1], imageWidth: 100, imageHeight: -3) }
            #expect(throws: GeometryError.self) {
                try convention.fromBox(Box(x0: 0, y0: 0, x1: 1, y1: 1), imageWidth: nil, imageHeight: nil)
            }
        } else {
            // Image size is not needed, and ignored when given.
            let withoutSize = try convention.toBox([1, 1, 2, 2], imageWidth: nil, imageHeight: nil)
            #expect(try convention.toBox([1, 1, 2, 2], imageWidth: -1, imageHeight: 0) == withoutSize)
        }
    }

    @Test("error messages name the convention and the problem")
    func messages() {
        #expect(throws: GeometryError("voc box needs 4 numbers, got 3")) {
            try BoxConvention.vocInclusive.toBox([1, 2, 3], imageWidth: nil, imageHeight: nil)
        }
        #expect(throws: GeometryError("yolo boxes need the image width and height")) {
            try BoxConvention.yoloNormalized.toBox([0.5, 0.5, 0.1, 0.1], imageWidth: nil, imageHeight: nil)
        }
    }

    @Test("point conventions round-trip points and polygons", arguments: PointConvention.allCases)
    func points(_ convention: PointConvention) throws {
        var generator = SplitMix64(seed: 3)
        for (width, height) in Self.sizes {
            for _ in 0..<200 {
                let point = Point(
                    x: Double.random(in: 0...Double(width), using: &generator),
                    y: Double.random(in: 0...Double(height), using: &generator))
                let values = try convention.fromPoint(point, imageWidth: width, imageHeight: height)
                let back = try convention.toPoint(x: values[0], y: values[1], imageWidth: width, imageHeight: height)
                #expect(isClose([back.x, back.y], [point.x, point.y]))
            }
            let ring = Polygon(points: [
                Point(x: 0, y: 0), Point(x: Double(width), y: 0), Point(x: Double(width), y: Double(height)),
            ])
            let flat = try convention.fromPolygon(ring, imageWidth: width, imageHeight: height)
            let back = try convention.toPolygon(flat: flat, imageWidth: width, imageHeight: height)
            #expect(isClose(back.flat, ring.flat))
        }
        if convention != .continuous {
            #expect(throws: GeometryError.self) { try convention.toPoint(x: 0.5, y: 0.5, imageWidth: nil, imageHeight: nil) }
            #expect(throws: GeometryError.self) { try convention.fromPoint(Point(x: 1, y: 1), imageWidth: 0, imageHeight: 10) }
        }
        #expect(throws: GeometryError.self) { try convention.toPoint(x: .nan, y: 0.5, imageWidth: 10, imageHeight: 10) }
        #expect(throws: GeometryError.self) { try convention.toPolygon(flat: [0, 0, 1], imageWidth: 10, imageHeight: 10) }
    }

    @Test("known point values")
    func knownPoints() throws {
        #expect(
            try PointConvention.yoloNormalized.toPoint(x: 0.5, y: 0.25, imageWidth: 640, imageHeight: 480)
                == Point(x: 320, y: 120))
        #expect(
            try PointConvention.labelStudioPercent.toPoint(x: 50, y: 25, imageWidth: 640, imageHeight: 480)
                == Point(x: 320, y: 120))
        #expect(try PointConvention.continuous.toPoint(x: 3, y: 4, imageWidth: nil, imageHeight: nil) == Point(x: 3, y: 4))
    }
}
