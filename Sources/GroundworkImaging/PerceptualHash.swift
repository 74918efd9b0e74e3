/// A 64-bit perceptual hash of decoded pixels, for finding near-duplicate images (the same scan
/// re-encoded, re-rendered at another bit depth, lightly cropped or noised) across splits.
///
/// Algorithm (difference hash, "dHash"):
/// 1. luminance per stored pixel: the mean of the colour samples (alpha ignored), 16-bit samples
///    scaled to the 8-bit range, so a 16-bit scan and its 8-bit rendering hash alike;
/// 2. an area average onto a 9 × 8 grid (each cell the exact mean of the pixels it covers);
/// 3. bit `8·row + column` is 1 when cell `column` is darker than cell `column + 1` of its row.
///
/// It is computed on the stored pixels (EXIF orientation not applied): two files with the same
/// pixels and different orientation tags are the same scan. Mirrored or rotated copies are not
/// detected. Two hashes are near duplicates when their Hamming distance is at most a threshold
/// (`PerceptualHash.defaultThreshold`).
public enum PerceptualHash {
    /// The hash's version: bumped whenever the algorithm changes (stored hashes are then recomputed).
    public static let version = 1
    /// The default Hamming-distance threshold for near duplicates (of 64 bits): 4. Re-encoded,
    /// re-rendered and lightly noised copies measure 0–3; different scans of the same body part
    /// typically measure well above 10.
    public static let defaultThreshold = 4

    /// The dHash of an image's stored pixels; 0 for an empty buffer.
    public static func dHash(_ pixels: PixelBuffer) -> UInt64 {
        let width = pixels.width
        let height = pixels.height
        guard width > 0, height > 0, pixels.isConsistent else { return 0 }
        let colour = pixels.channels >= 3 ? 3 : 1
        let scale = pixels.bitDepth == 16 ? 1.0 / 257.0 : 1.0
        // Accumulate luminance sums per grid cell with exact fractional coverage.
        let columns = 9
        let rows = 8
        var sums = [Double](repeating: 0, count: columns * rows)
        var weights = [Double](repeating: 0, count: columns * rows)
        let xSpans = spans(length: width, cells: columns)
        let ySpans = spans(length: height, cells: rows)
        pixels.samples.withUnsafeBytes { raw in
            var rowLuma = [Double](repeating: 0, count: width)
            for y in 0..<height {
                for x in 0..<width {
                    var total = 0.0
                    let base = (y * width + x) * pixels.channels
                    for c in 0..<colour {
                        if pixels.bitDepth == 16 {
                            total += Double(raw.loadUnaligned(fromByteOffset: (base + c) * 2, as: UInt16.self))
                        } else {
                            total += Double(raw[base + c])
                        }
                    }
                    rowLuma[x] = total * scale / Double(colour)
                }
                for (row, rowWeight) in ySpans[y] {
                    for x in 0..<width {
                        let value = rowLuma[x]
                        for (column, columnWeight) in xSpans[x] {
                            let weight = rowWeight * columnWeight
                            sums[row * columns + column] += value * weight
                            weights[row * columns + column] += weight
                        }
                    }
                }
            }
        }
        var hash: UInt64 = 0
        for row in 0..<rows {
            for column in 0..<(columns - 1) {
                let left = sums[row * columns + column] / max(weights[row * columns + column], 1e-12)
                let right = sums[row * columns + column + 1] / max(weights[row * columns + column + 1], 1e-12)
                if left < right { hash |= 1 << UInt64(row * (columns - 1) + column) }
            }
        }
        return hash
    }

    /// The number of differing bits.
    public static func distance(_ a: UInt64, _ b: UInt64) -> Int { (a ^ b).nonzeroBitCount }

    /// For each pixel index along an axis of `length` pixels, the grid cells it falls in and the
    /// fraction of the pixel in each (a pixel straddles at most two cells when cells ≥ 1 pixel).
    private static func spans(length: Int, cells: Int) -> [[(Int, Double)]] {
        let cellSize = Double(length) / Double(cells)
        var result = [[(Int, Double)]](repeating: [], count: length)
        for pixel in 0..<length {
            let start = Double(pixel)
            let end = start + 1
            var cell = min(cells - 1, Int(start / cellSize))
            while cell < cells {
                let lower = max(start, Double(cell) * cellSize)
                let upper = min(end, Double(cell + 1) * cellSize)
                if upper > lower { result[pixel].append((cell, upper - lower)) }
                if Double(cell + 1) * cellSize >= end { break }
                cell += 1
            }
        }
        return result
    }
}
