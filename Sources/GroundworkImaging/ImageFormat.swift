import Foundation

/// An image file format Groundwork recognizes by content.
public enum ImageFormat: String, Codable, Sendable, CaseIterable {
    /// Portable Network Graphics.
    case png
    /// JPEG (JFIF or EXIF).
    case jpeg
    /// DICOM Part 10 file (recognized, not decoded yet).
    case dicom

    /// The name used in messages: "PNG", "JPEG", "DICOM".
    public var displayName: String {
        switch self {
        case .png: return "PNG"
        case .jpeg: return "JPEG"
        case .dicom: return "DICOM"
        }
    }
}

/// Detects image formats from file content, never from file names.
public enum FormatSniffer {
    /// The eight bytes every PNG file starts with.
    static let pngSignature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// Detects the format from the first bytes (PNG signature, JPEG SOI FF D8 FF, DICOM "DICM" at
    /// offset 128). nil when unknown.
    public static func detect(_ bytes: UnsafeRawBufferPointer) -> ImageFormat? {
        if hasPrefix(bytes, pngSignature) {
            return .png
        }
        if hasPrefix(bytes, [0xFF, 0xD8, 0xFF]) {
            return .jpeg
        }
        if bytes.count >= 132, bytes[128] == 0x44, bytes[129] == 0x49, bytes[130] == 0x43,
            bytes[131] == 0x4D
        {
            return .dicom
        }
        return nil
    }

    /// Detects the format from the first bytes (PNG signature, JPEG SOI FF D8 FF, DICOM "DICM" at
    /// offset 128). nil when unknown.
    public static func detect(_ data: [UInt8]) -> ImageFormat? {
        data.withUnsafeBytes { detect($0) }
    }

    /// Whether the bytes start a DICOM Part 10 file: "DICM" after the 128-byte preamble.
    public static func isDICOMPart10(_ head: [UInt8]) -> Bool {
        head.count >= 132 && Array(head[128..<132]) == Array("DICM".utf8)
    }

    /// The MediaStorageSOPClassUID (0002,0002) of a DICOM Part 10 file's meta information (explicit VR
    /// little endian, after the 128-byte preamble and "DICM"), read from its first bytes; nil when
    /// the bytes do not hold it.
    public static func mediaStorageSOPClassUID(_ head: [UInt8]) -> String? {
        var offset = 132
        while offset + 8 <= head.count {
            let group = Int(head[offset]) | Int(head[offset + 1]) << 8
            let element = Int(head[offset + 2]) | Int(head[offset + 3]) << 8
            guard group == 0x0002 else { return nil }
            let vr = String(decoding: head[(offset + 4)..<(offset + 6)], as: UTF8.self)
            var length: Int
            var start: Int
            if ["OB", "OW", "OF", "SQ", "UT", "UN", "UC", "UR", "OD", "OL", "OV"].contains(vr) {
                guard offset + 12 <= head.count else { return nil }
                length = 0
                for i in 0..<4 { length |= Int(head[offset + 8 + i]) << (8 * i) }
                start = offset + 12
            } else {
                length = Int(head[offset + 6]) | Int(head[offset + 7]) << 8
                start = offset + 8
            }
            guard length >= 0, start + length <= head.count else { return nil }
            if element == 0x0002 {
                return String(decoding: head[start..<(start + length)], as: UTF8.self)
                    .trimmingCharacters(in: CharacterSet(charactersIn: "\0 "))
            }
            offset = start + length
        }
        return nil
    }

    /// The format whose signature `bytes` starts but does not finish: at least the first four bytes
    /// of the PNG signature ("\u{89}PNG"), or the JPEG start-of-image marker FF D8 without the
    /// following marker. Such a file was cut short rather than being something else.
    public static func truncatedSignature(_ bytes: UnsafeRawBufferPointer) -> ImageFormat? {
        if bytes.count >= 4, bytes.count < pngSignature.count,
            bytes.elementsEqual(pngSignature.prefix(bytes.count))
        {
            return .png
        }
        if bytes.count == 2, bytes[0] == 0xFF, bytes[1] == 0xD8 {
            return .jpeg
        }
        return nil
    }

    /// Human description of what the first bytes look like, for error messages (e.g. "text",
    /// "GIF image", "TIFF image", "empty file", "unknown bytes 00 01 02 03").
    public static func describe(_ data: [UInt8]) -> String {
        data.withUnsafeBytes { describe($0) }
    }

    /// Human description of what the first bytes look like (see the array overload).
    public static func describe(_ bytes: UnsafeRawBufferPointer) -> String {
        if bytes.isEmpty {
            return "empty file"
        }
        if let format = detect(bytes) {
            switch format {
            case .png: return "PNG image"
            case .jpeg: return "JPEG image"
            case .dicom: return "DICOM file"
            }
        }
        if let format = truncatedSignature(bytes) {
            return "\(format.displayName) signature cut short"
        }
        for (signature, name) in signatures where hasPrefix(bytes, signature) {
            return name
        }
        if bytes.count >= 12, hasPrefix(bytes, Array("RIFF".utf8)) {
            let kind = String(
                decoding: UnsafeRawBufferPointer(rebasing: bytes[8..<12]), as: UTF8.self)
            switch kind {
            case "WEBP": return "WebP image"
            case "WAVE": return "WAV audio"
            case "AVI ": return "AVI video"
            default: return "RIFF file"
            }
        }
        if bytes.count >= 12, bytes[4] == 0x66, bytes[5] == 0x74, bytes[6] == 0x79, bytes[7] == 0x70 {
            let brand = String(
                decoding: UnsafeRawBufferPointer(rebasing: bytes[8..<12]), as: UTF8.self)
            switch brand {
            case "heic", "heix", "mif1", "msf1", "hevc": return "HEIF image"
            case "avif", "avis": return "AVIF image"
            default: return "ISO media file (\(printable(brand)))"
            }
        }
        if bytes.count >= 348, isNIfTI(bytes) {
            return "NIfTI image"
        }
        if looksLikeText(bytes) {
            let start = firstNonSpace(bytes)
            if start.hasPrefix("<?xml") || start.hasPrefix("<svg") {
                return start.contains("<svg") ? "SVG image (text)" : "XML text"
            }
            if start.lowercased().hasPrefix("<!doctype html")
                || start.lowercased().hasPrefix("<html")
            {
                return "HTML text"
            }
            return "text"
        }
        let shown = bytes.prefix(4).map { byte in
            let hex = String(byte, radix: 16, uppercase: false)
            return byte < 16 ? "0" + hex : hex
        }
        return "unknown bytes " + shown.joined(separator: " ")
    }

    /// Well-known signatures at offset 0, checked in order.
    private static let signatures: [([UInt8], String)] = [
        (Array("GIF87a".utf8), "GIF image"),
        (Array("GIF89a".utf8), "GIF image"),
        ([0x49, 0x49, 0x2A, 0x00], "TIFF image"),
        ([0x4D, 0x4D, 0x00, 0x2A], "TIFF image"),
        ([0x49, 0x49, 0x2B, 0x00], "BigTIFF image"),
        ([0x4D, 0x4D, 0x00, 0x2B], "BigTIFF image"),
        ([0x00, 0x00, 0x00, 0x0C, 0x6A, 0x50, 0x20, 0x20], "JPEG 2000 image"),
        ([0xFF, 0x4F, 0xFF, 0x51], "JPEG 2000 codestream"),
        ([0xFF, 0x0A], "JPEG XL image"),
        ([0x00, 0x00, 0x01, 0x00], "ICO icon"),
        (Array("BM".utf8), "BMP image"),
        (Array("8BPS".utf8), "Photoshop document"),
        (Array("%PDF".utf8), "PDF document"),
        ([0x1F, 0x8B], "gzip-compressed data"),
        ([0x50, 0x4B, 0x03, 0x04], "ZIP archive"),
        ([0x50, 0x4B, 0x05, 0x06], "ZIP archive (empty)"),
        (Array("7z".utf8) + [0xBC, 0xAF, 0x27, 0x1C], "7-Zip archive"),
        ([0x28, 0xB5, 0x2F, 0xFD], "Zstandard-compressed data"),
        (Array("BZh".utf8), "bzip2-compressed data"),
        ([0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00], "XZ-compressed data"),
        ([0x7F, 0x45, 0x4C, 0x46], "ELF executable"),
        ([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59], "NumPy array"),
        ([0x89, 0x48, 0x44, 0x46], "HDF5 file"),
        (Array("SQLite format 3".utf8), "SQLite database"),
    ]

    /// NIfTI-1 / NIfTI-2: header size 348 (or 540) and the magic "n+1"/"ni1" at offset 344.
    private static func isNIfTI(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let magic = (bytes[344], bytes[345], bytes[346])
        return (magic == (0x6E, 0x2B, 0x31) || magic == (0x6E, 0x69, 0x31)) && bytes[347] == 0
    }

    private static func hasPrefix(_ bytes: UnsafeRawBufferPointer, _ prefix: [UInt8]) -> Bool {
        guard bytes.count >= prefix.count else { return false }
        for (index, byte) in prefix.enumerated() where bytes[index] != byte {
            return false
        }
        return true
    }

    /// True when the first kilobyte is UTF-8 text without control characters (other than
    /// whitespace); a multi-byte character cut at the end of the sample is allowed.
    private static func looksLikeText(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let sample = UnsafeRawBufferPointer(rebasing: bytes.prefix(1024))
        var index = 0
        while index < sample.count {
            let byte = sample[index]
            if byte < 0x80 {
                if byte < 0x20 && byte != 0x09 && byte != 0x0A && byte != 0x0D && byte != 0x0C {
                    return false
                }
                if byte == 0x7F {
                    return false
                }
                index += 1
                continue
            }
            let length: Int
            switch byte {
            case 0xC2...0xDF: length = 2
            case 0xE0...0xEF: length = 3
            case 0xF0...0xF4: length = 4
            default: return false
            }
            for offset in 1..<length {
                let position = index + offset
                if position >= sample.count {
                    // A character cut by the sample's end: only acceptable when the file goes on.
                    return bytes.count > sample.count
                }
                if sample[position] & 0xC0 != 0x80 {
                    return false
                }
            }
            index += length
        }
        return true
    }

    /// The first 64 characters of a text sample, after leading whitespace.
    private static func firstNonSpace(_ bytes: UnsafeRawBufferPointer) -> String {
        let sample = bytes.prefix(256).drop { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }
        return String(decoding: sample.prefix(64), as: UTF8.self)
    }

    /// Keeps printable ASCII, replacing anything else with "?".
    private static func printable(_ text: String) -> String {
        String(
            text.unicodeScalars.map {
                $0.isASCII && $0.value >= 0x20 && $0.value < 0x7F ? Character($0) : "?"
            })
    }
}
