import Foundation
import GRDB
import GroundworkImaging
import GroundworkStore

/// A fresh temporary folder, removed when the value is dropped.
final class TemporaryFolder {
    let path: String

    init() {
        let base = FileManager.default.temporaryDirectory.path
        path = "\(base)/groundwork-test-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// Writes bytes to a file under the folder (parents made) and returns its absolute path.
    @discardableResult
    func write(_ name: String, _ bytes: [UInt8]) -> String {
        let file = "\(path)/\(name)"
        try! FileManager.default.createDirectory(
            atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try! Data(bytes).write(to: URL(fileURLWithPath: file))
        return file
    }

    @discardableResult
    func write(_ name: String, text: String) -> String { write(name, Array(text.utf8)) }
}

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
