/// Every external box convention Groundwork reads or writes, named. Each converts its four
/// numbers to and from the canonical `Box` (continuous, half-open, 0-based pixel coordinates of
/// the displayed image).
///
/// | convention            | four numbers                      | to canonical                                    |
/// |-----------------------|-----------------------------------|-------------------------------------------------|
/// | `xyxy`                | x0 y0 x1 y1                       | identity                                        |
/// | `cocoXYWH`            | x y w h                           | [x, y, x + w, y + h]                            |
/// | `vocInclusive`        | xmin ymin xmax ymax (1-based, incl.) | [xmin − 1, ymin − 1, xmax, ymax]             |
/// | `yoloNormalized`      | cx cy w h (fractions of W, H)     | [(cx − w/2)·W, (cy − h/2)·H, (cx + w/2)·W, (cy + h/2)·H] |
/// | `labelStudioPercent`  | x y w h (percent of W, H)         | [x·W/100, y·H/100, (x + w)·W/100, (y + h)·H/100] |
///
/// Both directions reject input that is not four finite numbers, and boxes without positive
/// area (width or height ≤ 0 once converted). Neither direction checks that the box lies inside
/// the image: that is a policy decision (`Box.isInside`, `Box.clipped`).
public enum BoxConvention: String, Codable, Sendable, CaseIterable {
    /// Continuous half-open corners `x0 y0 x1 y1`, exactly Groundwork's frame. Also CVAT's
    /// `xtl ytl xbr ybr`, and Label Studio's rectangles once scaled from percent to pixels.
    case xyxy
    /// COCO `bbox`: `[x, y, width, height]` with (x, y) the top-left corner, continuous.
    case cocoXYWH = "coco_xywh"
    /// Pascal VOC `bndbox`: 1-based inclusive pixel indices `xmin ymin xmax ymax`. Pixel xmin
    /// (1-based) is 0-based pixel xmin − 1, which starts at x = xmin − 1; pixel xmax ends at
    /// x = xmax. So `[1, 1, 1, 1]` is the first pixel, canonical `[0, 0, 1, 1]`.
    case vocInclusive = "voc"
    /// YOLO: normalised centre and size `cx cy w h`, as fractions of the image width (cx, w)
    /// and height (cy, h). Needs the image size.
    case yoloNormalized = "yolo"
    /// Label Studio `rectanglelabels`: `x y width height` in percent of `original_width` and
    /// `original_height`, (x, y) the top-left corner. Needs the image size. Only unrotated
    /// rectangles are boxes: callers must reject a non-zero `rotation` before converting.
    case labelStudioPercent = "label_studio"

    /// True for the conventions whose numbers are relative to the image size.
    public var needsImageSize: Bool {
        switch self {
        case .xyxy, .cocoXYWH, .vocInclusive: return false
        case .yoloNormalized, .labelStudioPercent: return true
        }
    }

    /// The canonical box from this convention's four numbers.
    ///
    /// `imageWidth` and `imageHeight` (the displayed image size in pixels) are required for
    /// `yoloNormalized` and `labelStudioPercent` and ignored otherwise (pass nil).
    /// - Throws: `GeometryError` when `values` is not four finite numbers, when a needed image
    ///   size is missing or not positive, or when the resulting box has no positive area.
    public func toBox(_ values: [Double], imageWidth: Int?, imageHeight: Int?) throws(GeometryError) -> Box {
        guard values.count == 4 else {
            throw GeometryError("\(rawValue) box needs 4 numbers, got \(values.count)")
        }
        guard values.allSatisfy(\.isFinite) else {
            throw GeometryError("\(rawValue) box has a non-finite number: \(values)")
        }
        let a = values[0]
        let b = values[1]
        let c = values[2]
        let d = values[3]
        let box: Box
        switch self {
        case .xyxy:
            box = Box(x0: a, y0: b, x1: c, y1: d)
        case .cocoXYWH:
            try Self.requirePositiveSize(width: c, height: d, convention: self)
            box = Box(x0: a, y0: b, x1: a + c, y1: b + d)
        case .vocInclusive:
            box = Box(x0: a - 1, y0: b - 1, x1: c, y1: d)
        case .yoloNormalized:
            let (width, height) = try imageSize(imageWidth, imageHeight)
            try Self.requirePositiveSize(width: c, height: d, convention: self)
            box = Box(
                x0: (a - c / 2) * width, y0: (b - d / 2) * height,
                x1: (a + c / 2) * width, y1: (b + d / 2) * height)
        case .labelStudioPercent:
            let (width, height) = try imageSize(imageWidth, imageHeight)
            try Self.requirePositiveSize(width: c, height: d, convention: self)
            box = Box(
                x0: a / 100 * width, y0: b / 100 * height,
                x1: (a + c) / 100 * width, y1: (b + d) / 100 * height)
        }
        try Self.requireWellFormed(box, convention: self, values: values)
        return box
    }

    /// This convention's four numbers for a canonical box (the inverse of `toBox`).
    ///
    /// `imageWidth` and `imageHeight` are required for `yoloNormalized` and
    /// `labelStudioPercent` and ignored otherwise (pass nil).
    /// - Throws: `GeometryError` when the box is not finite or has no positive area, or when a
    ///   needed image size is missing or not positive.
    public func fromBox(_ box: Box, imageWidth: Int?, imageHeight: Int?) throws(GeometryError) -> [Double] {
        guard box.hasPositiveArea else {
            throw GeometryError("box \(box.array) is not finite with x0 < x1 and y0 < y1")
        }
        switch self {
        case .xyxy:
            return box.array
        case .cocoXYWH:
            return [box.x0, box.y0, box.x1 - box.x0, box.y1 - box.y0]
        case .vocInclusive:
            return [box.x0 + 1, box.y0 + 1, box.x1, box.y1]
        case .yoloNormalized:
            let (width, height) = try imageSize(imageWidth, imageHeight)
            return [
                (box.x0 + box.x1) / 2 / width, (box.y0 + box.y1) / 2 / height,
                (box.x1 - box.x0) / width, (box.y1 - box.y0) / height,
            ]
        case .labelStudioPercent:
            let (width, height) = try imageSize(imageWidth, imageHeight)
            return [
                box.x0 / width * 100, box.y0 / height * 100,
                (box.x1 - box.x0) / width * 100, (box.y1 - box.y0) / height * 100,
            ]
        }
    }

    private func imageSize(_ width: Int?, _ height: Int?) throws(GeometryError) -> (Double, Double) {
        guard let width, let height else {
            throw GeometryError("\(rawValue) boxes need the image width and height")
        }
        guard width > 0, height > 0 else {
            throw GeometryError("\(rawValue) boxes need a positive image size, got \(width)x\(height)")
        }
        return (Double(width), Double(height))
    }

    private static func requirePositiveSize(
        width: Double, height: Double, convention: BoxConvention
    ) throws(GeometryError) {
        guard width > 0, height > 0 else {
            throw GeometryError("\(convention.rawValue) box has a non-positive size (\(width) x \(height))")
        }
    }

    private static func requireWellFormed(
        _ box: Box, convention: BoxConvention, values: [Double]
    ) throws(GeometryError) {
        guard box.isFinite else {
            throw GeometryError("\(convention.rawValue) box \(values) overflows to a non-finite box")
        }
        guard box.x0 < box.x1 else {
            throw GeometryError("\(convention.rawValue) box \(values) has x1 <= x0 (\(box.x1) <= \(box.x0))")
        }
        guard box.y0 < box.y1 else {
            throw GeometryError("\(convention.rawValue) box \(values) has y1 <= y0 (\(box.y1) <= \(box.y0))")
        }
    }
}

/// Every external point convention Groundwork reads or writes for polygon vertices, named.
/// Each converts a point to and from Groundwork's continuous frame.
///
/// COCO `segmentation` polygons, CVAT `points`, LabelMe `points` and VGG VIA `all_points_x/y`
/// are already continuous coordinates in Groundwork's frame (`continuous`).
public enum PointConvention: String, Codable, Sendable, CaseIterable {
    /// Continuous pixel coordinates, exactly Groundwork's frame (COCO, CVAT, LabelMe, VIA).
    case continuous = "xy"
    /// YOLO segmentation: x and y as fractions of the image width and height.
    case yoloNormalized = "yolo"
    /// Label Studio `polygonlabels`: x and y in percent of `original_width`/`original_height`.
    case labelStudioPercent = "label_studio"

    /// The canonical point from this convention's two numbers. The image size is required for
    /// `yoloNormalized` and `labelStudioPercent` and ignored for `continuous`.
    /// - Throws: `GeometryError` for non-finite numbers or a missing or non-positive image size.
    public func toPoint(x: Double, y: Double, imageWidth: Int?, imageHeight: Int?) throws(GeometryError) -> Point {
        guard x.isFinite, y.isFinite else {
            throw GeometryError("\(rawValue) point (\(x), \(y)) is not finite")
        }
        switch self {
        case .continuous:
            return Point(x: x, y: y)
        case .yoloNormalized:
            let (width, height) = try Self.imageSize(imageWidth, imageHeight, self)
            return Point(x: x * width, y: y * height)
        case .labelStudioPercent:
            let (width, height) = try Self.imageSize(imageWidth, imageHeight, self)
            return Point(x: x / 100 * width, y: y / 100 * height)
        }
    }

    /// This convention's two numbers `[x, y]` for a canonical point (the inverse of `toPoint`).
    /// - Throws: `GeometryError` for a non-finite point or a missing or non-positive image size.
    public func fromPoint(_ point: Point, imageWidth: Int?, imageHeight: Int?) throws(GeometryError) -> [Double] {
        guard point.isFinite else {
            throw GeometryError("point (\(point.x), \(point.y)) is not finite")
        }
        switch self {
        case .continuous:
            return [point.x, point.y]
        case .yoloNormalized:
            let (width, height) = try Self.imageSize(imageWidth, imageHeight, self)
            return [point.x / width, point.y / height]
        case .labelStudioPercent:
            let (width, height) = try Self.imageSize(imageWidth, imageHeight, self)
            return [point.x / width * 100, point.y / height * 100]
        }
    }

    /// The canonical polygon from this convention's flat vertex list `[x1, y1, x2, y2, ...]`.
    /// - Throws: `GeometryError` as `Polygon(flat:)` does (odd count, fewer than 3 points,
    ///   non-finite numbers) or as `toPoint` does.
    public func toPolygon(flat: [Double], imageWidth: Int?, imageHeight: Int?) throws(GeometryError) -> Polygon {
        let polygon = try Polygon(flat: flat)
        var points: [Point] = []
        points.reserveCapacity(polygon.points.count)
        for point in polygon.points {
            points.append(try toPoint(x: point.x, y: point.y, imageWidth: imageWidth, imageHeight: imageHeight))
        }
        return Polygon(points: points)
    }

    /// This convention's flat vertex list for a canonical polygon (the inverse of `toPolygon`).
    /// - Throws: `GeometryError` as `fromPoint` does.
    public func fromPolygon(_ polygon: Polygon, imageWidth: Int?, imageHeight: Int?) throws(GeometryError) -> [Double] {
        var flat: [Double] = []
        flat.reserveCapacity(polygon.points.count * 2)
        for point in polygon.points {
            flat.append(contentsOf: try fromPoint(point, imageWidth: imageWidth, imageHeight: imageHeight))
        }
        return flat
    }

    private static func imageSize(
        _ width: Int?, _ height: Int?, _ convention: PointConvention
    ) throws(GeometryError) -> (Double, Double) {
        guard let width, let height else {
            throw GeometryError("\(convention.rawValue) points need the image width and height")
        }
        guard width > 0, height > 0 else {
            throw GeometryError("\(convention.rawValue) points need a positive image size, got \(width)x\(height)")
        }
        return (Double(width), Double(height))
    }
}
