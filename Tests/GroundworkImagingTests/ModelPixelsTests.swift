import Foundation
import GroundworkCore
import GroundworkImaging
import GroundworkTestSupport
import Testing

/// `ModelPixels` against Pillow: orientation as `ImageOps.exif_transpose` applies it, for every
/// EXIF value on 8-bit RGB and 16-bit gray; the 16 → 8-bit percentile window as numpy computes it.
@Suite("Model pixels")
struct ModelPixelsTests {
    static let python = ProcessInfo.processInfo.environment["GROUNDWORK_PYTHON"]

    @Test("an 8-bit upright image is left as it is")
    func uprightEightBitIsUnchanged() throws {
        let pixels = PixelBuffer(width: 3, height: 2, channels: 1, bitDepth: 8, samples: [1, 2, 3, 4, 5, 6])
        let png = try PNGEncoder.encode(pixels)
        #expect(try ModelPixels.render(png) == nil)
    }

    @Test("orientations 1-8 match Pillow's exif_transpose; 16-bit windows match numpy's percentiles")
    func matchesPillow() throws {
        try #require(Self.python != nil, "set GROUNDWORK_PYTHON (tools/test does)")
        let temporary = TemporaryFolder()
        let folder = temporary.path
        // Pillow writes PNGs with an eXIf orientation; Swift renders them; Pillow compares.
        let make = """
            import sys, numpy as np
            from PIL import Image
            rng = np.random.default_rng(7)
            for n in range(1, 9):
                exif = Image.Exif(); exif[0x0112] = n
                Image.fromarray(rng.integers(0, 256, (5, 7, 3), dtype=np.uint8)).save(f"{sys.argv[1]}/rgb{n}.png", exif=exif)
                gray = rng.normal(3000, 900, (6, 4)).clip(0, 65535).astype(np.uint16)
                gray[0, 0] = 65535
                Image.fromarray(gray).save(f"{sys.argv[1]}/gray{n}.png", exif=exif)
            """
        let (made, madeOutput) = try runPython(make, [folder])
        try #require(made == 0, "\(madeOutput)")
        for n in 1...8 {
            for name in ["rgb\(n)", "gray\(n)"] {
                let file = try FileIO.readAll("\(folder)/\(name).png")
                let rendered = try ModelPixels.render(file)
                if name == "rgb1" {
                    #expect(rendered == nil)
                    continue
                }
                let result = try #require(rendered, "\(name)")
                #expect(result.transform.orientation == (n == 1 ? nil : n))
                try result.png.withUnsafeBytes { try FileIO.writeNew("\(folder)/\(name).out.png", bytes: $0) }
                if name.hasPrefix("gray") {
                    let window = try #require(result.transform.window)
                    try FileIO.writeAtomically(
                        "\(folder)/\(name).window", bytes: Array("\(window.low) \(window.high)".utf8))
                }
            }
        }
        let compare = """
            import sys, numpy as np
            from PIL import Image, ImageOps
            bad = []
            for n in range(1, 9):
                for name in ("rgb", "gray"):
                    if name == "rgb" and n == 1:
                        continue
                    base = f"{sys.argv[1]}/{name}{n}"
                    expected = ImageOps.exif_transpose(Image.open(base + ".png"))
                    got = Image.open(base + ".out.png")
                    if name == "gray":
                        values = np.asarray(Image.open(base + ".png")).astype(np.int64)
                        stored = sorted(values.ravel())
                        k = len(stored)
                        low = stored[max(1, int(np.ceil(0.005 * k))) - 1]
                        high = stored[max(1, int(np.ceil(0.995 * k))) - 1]
                        window = tuple(map(int, open(base + ".window").read().split()))
                        if window != (low, high):
                            bad.append(f"{name}{n}: window {window}, numpy {(low, high)}")
                        scaled = np.clip(np.floor((np.asarray(expected).astype(np.float64) - low) * 255 / (high - low) + 0.5), 0, 255)
                        expected = Image.fromarray(scaled.astype(np.uint8))
                    if got.size != expected.size or not np.array_equal(np.asarray(got), np.asarray(expected)):
                        bad.append(f"{name}{n}: differs from Pillow ({got.size} vs {expected.size})")
            print("\\n".join(bad))
            sys.exit(1 if bad else 0)
            """
        let (status, output) = try runPython(compare, [folder])
        #expect(status == 0, "\(output)")
    }
}
