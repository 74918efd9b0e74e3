import Foundation
import GroundworkCore
import GroundworkImaging

/// An axis-aligned ellipse in pixel coordinates: pixel (x, y) is inside when its centre
/// (x + 0.5, y + 0.5) satisfies ((px − cx)/rx)² + ((py − cy)/ry)² ≤ 1.
public struct Ellipse: Sendable, Codable, Equatable {
    public var cx: Double, cy: Double, rx: Double, ry: Double

    public init(cx: Double, cy: Double, rx: Double, ry: Double) {
        self.cx = cx
        self.cy = cy
        self.rx = rx
        self.ry = ry
    }

    public func contains(x: Int, y: Int) -> Bool {
        let dx = (Double(x) + 0.5 - cx) / rx
        let dy = (Double(y) + 0.5 - cy) / ry
        return dx * dx + dy * dy <= 1
    }

    /// The tight box of the pixels inside, in Groundwork's convention: 0-based, half-open
    /// `[x0, y0, x1, y1]`, clipped to a `width × height` image. Nil when no pixel is inside.
    public func pixelBox(width: Int, height: Int) -> [Double]? {
        var x0 = Int.max, y0 = Int.max, x1 = Int.min, y1 = Int.min
        let ys = max(0, Int(cy - ry) - 1)...min(height - 1, Int(cy + ry) + 1)
        let xs = max(0, Int(cx - rx) - 1)...min(width - 1, Int(cx + rx) + 1)
        for y in ys {
            for x in xs where contains(x: x, y: y) {
                x0 = min(x0, x)
                y0 = min(y0, y)
                x1 = max(x1, x + 1)
                y1 = max(y1, y + 1)
            }
        }
        return x0 == Int.max ? nil : [Double(x0), Double(y0), Double(x1), Double(y1)]
    }
}

/// A lesion (or other target) drawn into a phantom, with where it is.
public struct PhantomTarget: Sendable, Codable, Equatable {
    /// The target's label, as the starter taxonomy names it.
    public var label: String
    public var shape: Ellipse
    /// Its tight box in the displayed image: 0-based, continuous, half-open `[x0, y0, x1, y1]`.
    public var box: [Double]
}

/// One synthetic sample image and what it shows.
public struct Phantom: Sendable {
    public var fileName: String
    public var patientId: String
    public var studyId: String
    public var modality: String
    public var bodyPart: String
    public var description: String
    public var targets: [PhantomTarget]
    /// The encoded file.
    public var bytes: [UInt8]
}

/// Synthetic phantoms standing in for real scans: a CT-like 16-bit slice (stored as HU + 1024),
/// an MR-like 16-bit slice, X-ray-like 8-bit radiographs, an ultrasound-like JPEG with an EXIF
/// orientation, and an endoscopy-like RGB JPEG. Every lesion is an ellipse at a known place.
public enum PhantomFactory {
    /// All demo phantoms, deterministic for a seed.
    public static func all(seed: UInt64 = 7) throws -> [Phantom] {
        var rng = SplitMix64(seed: seed)
        return [
            try ctSlice(
                name: "ct_chest_p001_s1.png", patient: "P001", study: "S001", rng: &rng,
                lesions: [("Liver Tumor", Ellipse(cx: 170, cy: 352, rx: 20, ry: 14))], nodule: nil),
            try ctSlice(
                name: "ct_chest_p001_s2.png", patient: "P001", study: "S001", rng: &rng,
                lesions: [], nodule: ("Lung Nodule", Ellipse(cx: 340, cy: 200, rx: 9, ry: 9))),
            try mrHead(name: "mr_head_p002.png", patient: "P002", study: "S002", rng: &rng),
            try xray(
                name: "cxr_p003.png", patient: "P003", study: "S003", nodule: Ellipse(cx: 150, cy: 190, rx: 18, ry: 18), rng: &rng
            ),
            try xray(name: "cxr_p004.png", patient: "P004", study: "S004", nodule: nil, rng: &rng),
            try ultrasound(name: "us_p005.jpg", patient: "P005", study: "S005", rng: &rng),
            try endoscopy(name: "endo_p006.jpg", patient: "P006", study: "S006", rng: &rng),
        ]
    }

    private static func ctSlice(
        name: String, patient: String, study: String, rng: inout SplitMix64,
        lesions: [(String, Ellipse)], nodule: (String, Ellipse)?
    ) throws -> Phantom {
        let w = 512, h = 512
        let body = Ellipse(cx: 256, cy: 260, rx: 220, ry: 170)
        let lungs = [Ellipse(cx: 170, cy: 220, rx: 70, ry: 95), Ellipse(cx: 342, cy: 220, rx: 70, ry: 95)]
        let liver = Ellipse(cx: 180, cy: 350, rx: 75, ry: 40)
        let spine = Ellipse(cx: 256, cy: 380, rx: 22, ry: 22)
        var samples = [UInt16](repeating: 0, count: w * h)
        for y in 0..<h {
            for x in 0..<w {
                var hu = -1000.0
                if body.contains(x: x, y: y) { hu = 40 }
                if liver.contains(x: x, y: y) { hu = 60 }
                for lung in lungs where lung.contains(x: x, y: y) { hu = -820 }
                if spine.contains(x: x, y: y) { hu = 700 }
                for (_, lesion) in lesions where lesion.contains(x: x, y: y) { hu = 110 }
                if let nodule, nodule.1.contains(x: x, y: y) { hu = 30 }
                hu += 12 * rng.gaussian()
                samples[y * w + x] = UInt16(clamping: Int((hu + 1024).rounded()))
            }
        }
        var targets = lesions.map { PhantomTarget(label: $0.0, shape: $0.1, box: $0.1.pixelBox(width: w, height: h)!) }
        targets.append(PhantomTarget(label: "Liver", shape: liver, box: liver.pixelBox(width: w, height: h)!))
        if let nodule {
            targets.append(PhantomTarget(label: nodule.0, shape: nodule.1, box: nodule.1.pixelBox(width: w, height: h)!))
        }
        return Phantom(
            fileName: name, patientId: patient, studyId: study, modality: "CT", bodyPart: "CHEST",
            description: "CT-like 16-bit slice, stored values are HU + 1024", targets: targets,
            bytes: try PNGEncoder.encode(buffer16(samples, width: w, height: h)))
    }

    private static func mrHead(name: String, patient: String, study: String, rng: inout SplitMix64) throws -> Phantom {
        let w = 256, h = 256
        let skull = Ellipse(cx: 128, cy: 128, rx: 100, ry: 118)
        let brain = Ellipse(cx: 128, cy: 128, rx: 90, ry: 108)
        let ventricle = Ellipse(cx: 128, cy: 120, rx: 14, ry: 26)
        let edema = Ellipse(cx: 90, cy: 150, rx: 20, ry: 14)
        let tumor = Ellipse(cx: 88, cy: 150, rx: 9, ry: 8)
        var samples = [UInt16](repeating: 0, count: w * h)
        for y in 0..<h {
            for x in 0..<w {
                var v = 20.0
                if skull.contains(x: x, y: y) { v = 900 }
                if brain.contains(x: x, y: y) { v = 1400 }
                if ventricle.contains(x: x, y: y) { v = 400 }
                if edema.contains(x: x, y: y) { v = 2100 }
                if tumor.contains(x: x, y: y) { v = 2900 }
                v += 40 * rng.gaussian()
                samples[y * w + x] = UInt16(clamping: Int(v.rounded()))
            }
        }
        return Phantom(
            fileName: name, patientId: patient, studyId: study, modality: "MR", bodyPart: "HEAD",
            description: "MR-like 16-bit T2 slice",
            targets: [
                PhantomTarget(label: "Brain Edema", shape: edema, box: edema.pixelBox(width: w, height: h)!),
                PhantomTarget(label: "Brain Tumor", shape: tumor, box: tumor.pixelBox(width: w, height: h)!),
            ], bytes: try PNGEncoder.encode(buffer16(samples, width: w, height: h)))
    }

    private static func xray(name: String, patient: String, study: String, nodule: Ellipse?, rng: inout SplitMix64) throws
        -> Phantom
    {
        let w = 400, h = 400
        let lungs = [Ellipse(cx: 130, cy: 200, rx: 80, ry: 140), Ellipse(cx: 270, cy: 200, rx: 80, ry: 140)]
        let heart = Ellipse(cx: 215, cy: 250, rx: 60, ry: 55)
        var samples = [UInt8](repeating: 0, count: w * h)
        for y in 0..<h {
            for x in 0..<w {
                var v = 200.0 - Double(y) * 0.05
                for lung in lungs where lung.contains(x: x, y: y) { v = 60 }
                if heart.contains(x: x, y: y) { v = 170 }
                // Ribs: bright bands across the lungs.
                if (y / 6) % 5 == 0, lungs.contains(where: { $0.contains(x: x, y: y) }) { v += 50 }
                if let nodule, nodule.contains(x: x, y: y) { v = 150 }
                v += 6 * rng.gaussian()
                samples[y * w + x] = UInt8(clamping: Int(v.rounded()))
            }
        }
        var targets = [PhantomTarget(label: "Heart", shape: heart, box: heart.pixelBox(width: w, height: h)!)]
        if let nodule {
            targets.append(PhantomTarget(label: "Lung Nodule", shape: nodule, box: nodule.pixelBox(width: w, height: h)!))
        }
        return Phantom(
            fileName: name, patientId: patient, studyId: study, modality: "DX", bodyPart: "CHEST",
            description: "chest X-ray-like 8-bit radiograph", targets: targets,
            bytes: try PNGEncoder.encode(PixelBuffer(width: w, height: h, channels: 1, bitDepth: 8, samples: samples)))
    }

    /// Stored 300 wide × 200 high with EXIF orientation 6 (rotate 90° clockwise to display),
    /// so it is displayed 200 wide × 300 high; the target's box is given in the displayed frame.
    private static func ultrasound(name: String, patient: String, study: String, rng: inout SplitMix64) throws -> Phantom {
        let w = 300, h = 200
        let cyst = Ellipse(cx: 180, cy: 90, rx: 24, ry: 16)
        var samples = [UInt8](repeating: 0, count: w * h)
        for y in 0..<h {
            for x in 0..<w {
                var v = 90.0 + 25 * rng.gaussian()
                if cyst.contains(x: x, y: y) { v = 10 + 5 * rng.gaussian() }
                samples[y * w + x] = UInt8(clamping: Int(v.rounded()))
            }
        }
        let jpeg = try JPEGEncoder.encode(
            PixelBuffer(width: w, height: h, channels: 1, bitDepth: 8, samples: samples), quality: 92)
        // Orientation 6: displayed pixel (X, Y) shows stored pixel (Y, h − 1 − X); a stored box
        // [x0, y0, x1, y1] becomes [h − y1, x0, h − y0, x1] when displayed.
        let stored = cyst.pixelBox(width: w, height: h)!
        let displayed = [Double(h) - stored[3], stored[0], Double(h) - stored[1], stored[2]]
        let displayedShape = Ellipse(cx: Double(h) - cyst.cy, cy: cyst.cx, rx: cyst.ry, ry: cyst.rx)
        return Phantom(
            fileName: name, patientId: patient, studyId: study, modality: "US", bodyPart: "ABDOMEN",
            description: "ultrasound-like JPEG stored sideways with EXIF orientation 6",
            targets: [PhantomTarget(label: "Cyst", shape: displayedShape, box: displayed)],
            bytes: withExifOrientation(jpeg, orientation: 6))
    }

    private static func endoscopy(name: String, patient: String, study: String, rng: inout SplitMix64) throws -> Phantom {
        let w = 320, h = 240
        let polyp = Ellipse(cx: 200, cy: 110, rx: 30, ry: 24)
        var samples = [UInt8](repeating: 0, count: w * h * 3)
        for y in 0..<h {
            for x in 0..<w {
                let dx = Double(x) - 160, dy = Double(y) - 120
                let vignette = max(0, 1 - (dx * dx + dy * dy) / (200 * 200))
                var rgb = [200 * vignette, 90 * vignette, 80 * vignette]
                if polyp.contains(x: x, y: y) { rgb = [230, 150, 140] }
                for c in 0..<3 {
                    samples[(y * w + x) * 3 + c] = UInt8(clamping: Int((rgb[c] + 4 * rng.gaussian()).rounded()))
                }
            }
        }
        return Phantom(
            fileName: name, patientId: patient, studyId: study, modality: "ES", bodyPart: "COLON",
            description: "endoscopy-like RGB JPEG",
            targets: [PhantomTarget(label: "Polyp", shape: polyp, box: polyp.pixelBox(width: w, height: h)!)],
            bytes: try JPEGEncoder.encode(
                PixelBuffer(width: w, height: h, channels: 3, bitDepth: 8, samples: samples), quality: 90))
    }

    private static func buffer16(_ samples: [UInt16], width: Int, height: Int) -> PixelBuffer {
        var bytes = [UInt8](repeating: 0, count: samples.count * 2)
        for (i, v) in samples.enumerated() {
            bytes[2 * i] = UInt8(v & 0xFF)
            bytes[2 * i + 1] = UInt8(v >> 8)
        }
        return PixelBuffer(width: width, height: height, channels: 1, bitDepth: 16, samples: bytes)
    }

    /// Inserts an APP1 Exif segment (big-endian TIFF, IFD0 with one Orientation entry) after SOI.
    static func withExifOrientation(_ jpeg: [UInt8], orientation: UInt16) -> [UInt8] {
        var tiff: [UInt8] = [0x4D, 0x4D, 0x00, 0x2A, 0x00, 0x00, 0x00, 0x08]  // "MM", 42, IFD0 at 8
        tiff += [0x00, 0x01]  // one entry
        tiff += [0x01, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01]  // tag 0x0112, SHORT, count 1
        tiff += [UInt8(orientation >> 8), UInt8(orientation & 0xFF), 0x00, 0x00]
        tiff += [0x00, 0x00, 0x00, 0x00]  // no next IFD
        let payload: [UInt8] = Array("Exif".utf8) + [0, 0] + tiff
        let length = payload.count + 2
        let segment: [UInt8] = [0xFF, 0xE1, UInt8(length >> 8), UInt8(length & 0xFF)] + payload
        return Array(jpeg[0..<2]) + segment + Array(jpeg[2...])
    }
}
