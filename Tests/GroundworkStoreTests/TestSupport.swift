import Foundation
import GRDB
import GroundworkImaging
import GroundworkStore
@_exported import GroundworkTestSupport

/// Small deterministic images made with Groundwork's own encoders.
enum Samples {
    /// A gray PNG whose pixel values depend on `seed`, so different seeds give different bytes.
    static func png(width: Int = 16, height: Int = 12, bitDepth: Int = 8, seed: Int = 0) -> [UInt8] {
        let bytesPerSample = bitDepth / 8
        var samples = [UInt8](repeating: 0, count: width * height * bytesPerSample)
        for i in 0..<samples.count { samples[i] = UInt8(truncatingIfNeeded: i &* 31 &+ seed &* 97) }
        return try! PNGEncoder.encode(
            PixelBuffer(width: width, height: height, channels: 1, bitDepth: bitDepth, samples: samples))
    }

    static func jpeg(width: Int = 24, height: Int = 16, channels: Int = 3, seed: Int = 0) -> [UInt8] {
        var samples = [UInt8](repeating: 0, count: width * height * channels)
        for i in 0..<samples.count { samples[i] = UInt8(truncatingIfNeeded: (i / channels) &* 3 &+ seed &* 11) }
        return try! JPEGEncoder.encode(
            PixelBuffer(width: width, height: height, channels: channels, bitDepth: 8, samples: samples))
    }

    /// A valid PNG cut short in the middle of its image data.
    static func truncatedPNG() -> [UInt8] {
        let full = png(width: 64, height: 64, seed: 5)
        return Array(full.prefix(full.count / 2))
    }
}

extension Project {
    func count(_ sql: String) throws -> Int {
        try database.read { db in try Int.fetchOne(db, sql: sql) ?? -1 }
    }
}
