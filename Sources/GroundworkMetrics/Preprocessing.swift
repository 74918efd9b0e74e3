import GroundworkGeometry

/// How a model turns the displayed image (width × height, the frame of the release's regions)
/// into its input, and so which image pixels each cell of its attention grid sees.
///
/// | kind | model input | grid |
/// |---|---|---|
/// | `pad_to_square` | LLaVA's `expand2square`: paste on an S × S canvas (S = max(W, H)) at ((S − W) // 2, (S − H) // 2), fill colour around, then resize to `input_size` | input / (patch · merge) |
/// | `resize` | squash to `input_size` (width × height), aspect not kept | input / (patch · merge) |
/// | `center_crop` | CLIP (Hugging Face `CLIPImageProcessor`): shortest side to `input_size`, the other to ⌊input · long / short⌋, then a centred `input_size` crop at offset ((w′ − S) // 2, (h′ − S) // 2) | input / (patch · merge) |
/// | `smart_resize` | Qwen2-VL / 2.5-VL: sides rounded to multiples of f = patch · merge (Python's round-half-even), then scaled into [min_pixels, max_pixels] (floor when too large, ceil when too small) | h̄ / f × w̄ / f |
/// | `none` | the image itself (maps already at image resolution, e.g. Grad-CAM) | H × W |
///
/// A grid cell is one merged token: `patch_size × merge_size` input pixels square. The mapping is
/// exact: image point (x, y) lands on input point (x · sx + tx, y · sy + ty).
public struct Preprocessing: Sendable, Hashable, Codable {
    /// The kinds of preprocessing.
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
        case padToSquare = "pad_to_square"
        case resize
        case centerCrop = "center_crop"
        case smartResize = "smart_resize"
        case none
    }

    /// Qwen2-VL's default `min_pixels`: 56 × 56.
    public static let defaultMinPixels = 56 * 56
    /// Qwen2-VL's default `max_pixels`: 28 × 28 × 1280.
    public static let defaultMaxPixels = 28 * 28 * 1280

    /// The kind.
    public var kind: Kind
    /// Model input width in pixels (`input_size`); unused by `smart_resize` and `none`.
    public var inputWidth: Int
    /// Model input height in pixels.
    public var inputHeight: Int
    /// Vision transformer patch size in input pixels.
    public var patchSize: Int
    /// Tokens merged per side after the vision encoder (Qwen2-VL: 2; others 1).
    public var mergeSize: Int
    /// `smart_resize`'s lower bound on h̄ · w̄.
    public var minPixels: Int
    /// `smart_resize`'s upper bound on h̄ · w̄.
    public var maxPixels: Int

    /// A preprocessing description.
    public init(
        kind: Kind, inputWidth: Int = 0, inputHeight: Int = 0, patchSize: Int = 14, mergeSize: Int = 1,
        minPixels: Int = Preprocessing.defaultMinPixels, maxPixels: Int = Preprocessing.defaultMaxPixels
    ) {
        self.kind = kind
        self.inputWidth = inputWidth
        self.inputHeight = inputHeight
        self.patchSize = patchSize
        self.mergeSize = mergeSize
        self.minPixels = minPixels
        self.maxPixels = maxPixels
    }

    /// LLaVA-style padding to a square of `inputSize`.
    public static func padToSquare(inputSize: Int, patchSize: Int) -> Preprocessing {
        Preprocessing(kind: .padToSquare, inputWidth: inputSize, inputHeight: inputSize, patchSize: patchSize)
    }

    /// Squash to `inputSize` × `inputSize`.
    public static func resize(inputSize: Int, patchSize: Int) -> Preprocessing {
        Preprocessing(kind: .resize, inputWidth: inputSize, inputHeight: inputSize, patchSize: patchSize)
    }

    /// Cell side in model-input pixels: patch_size × merge_size.
    public var cellSide: Int { patchSize * mergeSize }

    /// Problems with the parameters themselves (independent of any image), as messages.
    public func problems() -> [String] {
        var found: [String] = []
        if kind != .none {
            if patchSize < 1 { found.append("patch_size must be a positive integer, not \(patchSize)") }
            if mergeSize < 1 { found.append("merge_size must be a positive integer, not \(mergeSize)") }
        }
        switch kind {
        case .padToSquare, .centerCrop:
            if inputWidth != inputHeight {
                found.append("\(kind.rawValue) needs a square input_size, not \(inputWidth)x\(inputHeight)")
            }
            fallthrough
        case .resize:
            if inputWidth < 1 || inputHeight < 1 {
                found.append("input_size must be positive, not \(inputWidth)x\(inputHeight)")
            } else if patchSize >= 1, mergeSize >= 1,
                inputWidth % cellSide != 0 || inputHeight % cellSide != 0
            {
                found.append(
                    "input_size \(inputWidth)x\(inputHeight) is not a multiple of patch_size × merge_size = \(cellSide)")
            }
        case .smartResize:
            if minPixels < 1 || maxPixels < minPixels {
                found.append("need 1 <= min_pixels <= max_pixels, not \(minPixels)..\(maxPixels)")
            }
        case .none:
            break
        }
        return found
    }

    /// The mapping of a `width` × `height` image onto the model's grid.
    /// - Throws: `PreprocessingError` for a non-positive image size, parameters that `problems()`
    ///   reports, or (smart_resize) an aspect ratio above 200, which Qwen2-VL refuses too.
    public func mapping(width: Int, height: Int) throws(PreprocessingError) -> GridMapping {
        guard width > 0, height > 0 else { throw PreprocessingError("image size \(width)x\(height) is not positive") }
        if let problem = problems().first { throw PreprocessingError(problem) }
        let w = Double(width)
        let h = Double(height)
        let f = cellSide
        switch kind {
        case .none:
            return GridMapping(
                imageWidth: width, imageHeight: height, inputWidth: width, inputHeight: height, rows: height,
                cols: width, scaleX: 1, scaleY: 1, offsetX: 0, offsetY: 0)
        case .resize:
            return GridMapping(
                imageWidth: width, imageHeight: height, inputWidth: inputWidth, inputHeight: inputHeight,
                rows: inputHeight / f, cols: inputWidth / f, scaleX: Double(inputWidth) / w,
                scaleY: Double(inputHeight) / h, offsetX: 0, offsetY: 0)
        case .padToSquare:
            let side = Swift.max(width, height)
            let scale = Double(inputWidth) / Double(side)
            let padX = Double((side - width) / 2)
            let padY = Double((side - height) / 2)
            return GridMapping(
                imageWidth: width, imageHeight: height, inputWidth: inputWidth, inputHeight: inputHeight,
                rows: inputHeight / f, cols: inputWidth / f, scaleX: scale, scaleY: scale, offsetX: padX * scale,
                offsetY: padY * scale)
        case .centerCrop:
            let size = inputWidth
            let short = Swift.min(width, height)
            let long = Swift.max(width, height)
            // Python's int(size * long / short): truncation of the float quotient.
            let newLong = Int((Double(size) * Double(long) / Double(short)).rounded(.towardZero))
            let newWidth = width <= height ? size : newLong
            let newHeight = width <= height ? newLong : size
            let left = (newWidth - size) / 2
            let top = (newHeight - size) / 2
            return GridMapping(
                imageWidth: width, imageHeight: height, inputWidth: size, inputHeight: size, rows: size / f,
                cols: size / f, scaleX: Double(newWidth) / w, scaleY: Double(newHeight) / h, offsetX: -Double(left),
                offsetY: -Double(top))
        case .smartResize:
            let (newHeight, newWidth) = try Preprocessing.smartResize(
                height: height, width: width, factor: f, minPixels: minPixels, maxPixels: maxPixels)
            return GridMapping(
                imageWidth: width, imageHeight: height, inputWidth: newWidth, inputHeight: newHeight,
                rows: newHeight / f, cols: newWidth / f, scaleX: Double(newWidth) / w, scaleY: Double(newHeight) / h,
                offsetX: 0, offsetY: 0)
        }
    }

    /// Qwen2-VL's `smart_resize(height, width, factor, min_pixels, max_pixels)`, to the letter:
    /// h̄ = max(f, round(h / f) · f) (round half to even, as Python's `round`), likewise w̄; if
    /// h̄ · w̄ > max_pixels, β = √(h · w / max_pixels), h̄ = max(f, ⌊h / β / f⌋ · f); if
    /// h̄ · w̄ < min_pixels, β = √(min_pixels / (h · w)), h̄ = ⌈h · β / f⌉ · f. An aspect ratio
    /// above 200 is an error.
    public static func smartResize(
        height: Int, width: Int, factor: Int, minPixels: Int, maxPixels: Int
    ) throws(PreprocessingError) -> (height: Int, width: Int) {
        let h = Double(height)
        let w = Double(width)
        let f = Double(factor)
        guard Swift.max(h, w) / Swift.min(h, w) <= 200 else {
            throw PreprocessingError("smart_resize: aspect ratio of \(width)x\(height) exceeds 200")
        }
        var hBar = Swift.max(f, (h / f).rounded(.toNearestOrEven) * f)
        var wBar = Swift.max(f, (w / f).rounded(.toNearestOrEven) * f)
        if hBar * wBar > Double(maxPixels) {
            let beta = (h * w / Double(maxPixels)).squareRoot()
            hBar = Swift.max(f, (h / beta / f).rounded(.down) * f)
            wBar = Swift.max(f, (w / beta / f).rounded(.down) * f)
        } else if hBar * wBar < Double(minPixels) {
            let beta = (Double(minPixels) / (h * w)).squareRoot()
            hBar = (h * beta / f).rounded(.up) * f
            wBar = (w * beta / f).rounded(.up) * f
        }
        return (Int(hBar), Int(wBar))
    }
}

/// A preprocessing that cannot be applied.
public struct PreprocessingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong.
    public var message: String
    /// An error with a message.
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Where a `imageWidth` × `imageHeight` image lands in the model's input, and the grid over it.
///
/// Image point (x, y) maps to input point (x · scaleX + offsetX, y · scaleY + offsetY); the
/// input is [0, inputWidth) × [0, inputHeight) (what a centre crop cuts falls outside it); cell
/// (r, c) covers input pixels [c · cw, (c + 1) · cw) × [r · ch, (r + 1) · ch) with
/// cw = inputWidth / cols, ch = inputHeight / rows.
public struct GridMapping: Sendable, Hashable {
    /// The displayed image's size.
    public var imageWidth: Int
    /// The displayed image's height.
    public var imageHeight: Int
    /// The model input's size (after padding, resizing or cropping).
    public var inputWidth: Int
    /// The model input's height.
    public var inputHeight: Int
    /// Grid rows.
    public var rows: Int
    /// Grid columns.
    public var cols: Int
    /// x scale image → input.
    public var scaleX: Double
    /// y scale image → input.
    public var scaleY: Double
    /// x offset image → input (padding, or minus the crop's left edge).
    public var offsetX: Double
    /// y offset image → input.
    public var offsetY: Double

    /// Cell width in input pixels.
    public var cellWidth: Double { Double(inputWidth) / Double(cols) }
    /// Cell height in input pixels.
    public var cellHeight: Double { Double(inputHeight) / Double(rows) }

    /// An image box in input coordinates.
    public func toInput(_ box: Box) -> Box {
        Box(
            x0: box.x0 * scaleX + offsetX, y0: box.y0 * scaleY + offsetY, x1: box.x1 * scaleX + offsetX,
            y1: box.y1 * scaleY + offsetY)
    }

    /// An image point in input coordinates.
    public func toInput(_ point: Point) -> Point {
        Point(x: point.x * scaleX + offsetX, y: point.y * scaleY + offsetY)
    }

    /// An input point in image coordinates.
    public func toImage(_ point: Point) -> Point {
        Point(x: (point.x - offsetX) / scaleX, y: (point.y - offsetY) / scaleY)
    }

    /// The part of the image the model sees, in image coordinates (the whole image unless a
    /// centre crop cuts it).
    public var visibleImageBox: Box {
        let a = toImage(Point(x: 0, y: 0))
        let b = toImage(Point(x: Double(inputWidth), y: Double(inputHeight)))
        return Box(
            x0: Swift.max(0, a.x), y0: Swift.max(0, a.y), x1: Swift.min(Double(imageWidth), b.x),
            y1: Swift.min(Double(imageHeight), b.y))
    }
}
