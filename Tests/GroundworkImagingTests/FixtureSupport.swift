import Foundation
import GroundworkCore
import GroundworkImaging
import Testing

/// The fixtures' manifest.json, as written by tools/make-image-fixtures.py.
struct FixtureManifest: Decodable {
    struct Image: Decodable {
        var name: String
        var file: String
        var format: String
        var width: Int
        var height: Int
        var channels: Int
        var bitDepth: Int
        var photometric: String
        var sourceBitDepth: Int
        var interlaced: Bool
        var orientation: Int
    }

    struct Bad: Decodable {
        var name: String
        var file: String
        var error: String
    }

    var seed: Int
    var images: [Image]
    var bad: [Bad]
}

/// A folder of fixtures and its manifest.
struct FixtureSet {
    var directory: URL
    var manifest: FixtureManifest

    /// The committed fixtures, from the test bundle.
    static func bundled() throws -> FixtureSet {
        let directory = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
        return try FixtureSet(directory: directory)
    }

    init(directory: URL) throws {
        self.directory = directory
        let data = try Data(contentsOf: directory.appendingPathComponent("manifest.json"))
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        manifest = try decoder.decode(FixtureManifest.self, from: data)
    }

    func bytes(_ file: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: directory.appendingPathComponent(file)))
    }

    func image(named name: String) throws -> FixtureManifest.Image {
        try #require(manifest.images.first { $0.name == name }, "no fixture \(name)")
    }

    /// Decodes every good fixture and compares header and samples with the manifest and the
    /// reference; returns how many were checked.
    @discardableResult
    func checkGoodImages(sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> Int {
        for entry in manifest.images {
            let data = try bytes(entry.file)
            let reference = try bytes(entry.name + ".ref")
            let decoded: DecodedImage
            do {
                decoded = try ImageDecoder.decode(data)
            } catch {
                Issue.record(
                    "\(entry.name): decode failed: \(error)", sourceLocation: sourceLocation)
                continue
            }
            let expected = ImageInfo(
                format: ImageFormat(rawValue: entry.format) ?? .png, storedWidth: entry.width,
                storedHeight: entry.height, channels: entry.channels, bitDepth: entry.bitDepth,
                sourceBitDepth: entry.sourceBitDepth,
                photometric: Photometric(rawValue: entry.photometric) ?? .gray,
                interlaced: entry.interlaced, orientation: entry.orientation)
            #expect(decoded.info == expected, "\(entry.name)", sourceLocation: sourceLocation)
            // Validation (full decode through scratch rows) agrees with decoding.
            #expect(
                (try? ImageDecoder.validate(data)) == expected, "\(entry.name): validate",
                sourceLocation: sourceLocation)
            #expect(
                decoded.pixels.width == entry.width, "\(entry.name)", sourceLocation: sourceLocation
            )
            #expect(
                decoded.pixels.height == entry.height, "\(entry.name)",
                sourceLocation: sourceLocation)
            #expect(
                decoded.pixels.channels == entry.channels, "\(entry.name)",
                sourceLocation: sourceLocation)
            #expect(
                decoded.pixels.bitDepth == entry.bitDepth, "\(entry.name)",
                sourceLocation: sourceLocation)
            if let difference = firstDifference(decoded.pixels.samples, reference) {
                Issue.record(
                    "\(entry.name): samples differ from the reference: \(difference)",
                    sourceLocation: sourceLocation)
            }
            let inspected = try? ImageDecoder.inspect(data)
            #expect(
                inspected == decoded.info, "\(entry.name): inspect disagrees with decode",
                sourceLocation: sourceLocation)
        }
        return manifest.images.count
    }

    /// Decodes every bad fixture and checks the error kind; returns how many were checked.
    @discardableResult
    func checkBadFiles(sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> Int {
        for entry in manifest.bad {
            let data = try bytes(entry.file)
            let error = decodeError(data)
            #expect(
                error?.kind.rawValue == entry.error, "\(entry.file): \(String(describing: error))",
                sourceLocation: sourceLocation)
            #expect(
                error?.message.isEmpty == false, "\(entry.file)", sourceLocation: sourceLocation)
            #expect(
                validateError(data) == error, "\(entry.file): validate fails as decode does",
                sourceLocation: sourceLocation)
        }
        return manifest.bad.count
    }
}

/// The error `decode` throws, or nil when it succeeds.
func decodeError(_ data: [UInt8], maxPixels: Int = ImageDecoder.defaultMaxPixels)
    -> ImageDecodeError?
{
    do {
        _ = try ImageDecoder.decode(data, maxPixels: maxPixels)
        return nil
    } catch {
        return error
    }
}

/// The error `validate` throws, or nil when it succeeds.
func validateError(_ data: [UInt8], maxPixels: Int = ImageDecoder.defaultMaxPixels)
    -> ImageDecodeError?
{
    do {
        _ = try ImageDecoder.validate(data, maxPixels: maxPixels)
        return nil
    } catch {
        return error
    }
}

/// The error `inspect` throws, or nil when it succeeds.
func inspectError(_ data: [UInt8], maxPixels: Int = ImageDecoder.defaultMaxPixels)
    -> ImageDecodeError?
{
    do {
        _ = try ImageDecoder.inspect(data, maxPixels: maxPixels)
        return nil
    } catch {
        return error
    }
}

/// A description of where two byte arrays first differ, or nil when they are equal.
func firstDifference(_ actual: [UInt8], _ expected: [UInt8]) -> String? {
    if actual == expected {
        return nil
    }
    if actual.count != expected.count {
        return "\(actual.count) bytes, expected \(expected.count)"
    }
    let index = actual.indices.first { actual[$0] != expected[$0] } ?? 0
    let differing = zip(actual, expected).filter { $0 != $1 }.count
    let maxDelta = zip(actual, expected).map { abs(Int($0) - Int($1)) }.max() ?? 0
    return
        "\(differing) bytes differ, first at \(index) (\(actual[index]) vs \(expected[index])), largest byte difference \(maxDelta)"
}

/// The package root, found from this file's path (Tests/GroundworkImagingTests/...).
func packageRoot(filePath: String = #filePath) -> URL {
    URL(fileURLWithPath: filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
}

/// CRC-32 as PNG computes it (ISO-HDLC polynomial, reflected).
func crc32<C: Collection<UInt8>>(_ bytes: C) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in bytes {
        crc ^= UInt32(byte)
        for _ in 0..<8 {
            crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1
        }
    }
    return ~crc
}
