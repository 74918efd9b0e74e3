/// Reads the EXIF orientation tag (0x0112) from raw file bytes, without decoding the image.
///
/// Every read is bounds-checked: malformed or hostile EXIF gives nil, never a crash.
public enum ExifOrientation {
    /// EXIF orientation from a JPEG's APP1 "Exif\0\0" segment or a PNG's eXIf chunk (TIFF header
    /// II/MM, IFD0 tag 0x0112, SHORT). nil when absent; malformed EXIF → nil (never crash,
    /// bounds-check everything). Values outside 1...8 are treated as malformed.
    public static func read(from data: UnsafeRawBufferPointer, format: ImageFormat) -> Int? {
        guard let tiff = exifPayload(in: data, format: format) else { return nil }
        return orientation(inTIFF: UnsafeRawBufferPointer(rebasing: data[tiff]))
    }

    /// EXIF orientation from a whole file held in an array (see the raw-buffer overload).
    public static func read(from data: [UInt8], format: ImageFormat) -> Int? {
        data.withUnsafeBytes { read(from: $0, format: format) }
    }

    /// The byte range of the TIFF structure (starting at "II"/"MM") inside the file.
    static func exifPayload(in data: UnsafeRawBufferPointer, format: ImageFormat) -> Range<Int>? {
        switch format {
        case .jpeg: return jpegExif(in: data)
        case .png: return pngExif(in: data)
        case .dicom: return nil
        }
    }

    /// Walks the JPEG marker segments up to the first scan (SOS) and returns the payload of the
    /// first APP1 segment that starts with "Exif\0\0".
    private static func jpegExif(in data: UnsafeRawBufferPointer) -> Range<Int>? {
        guard data.count >= 4, data[0] == 0xFF, data[1] == 0xD8 else { return nil }
        var position = 2
        while position < data.count {
            guard data[position] == 0xFF else { return nil }  // not at a marker: malformed
            // Skip fill bytes (any number of 0xFF before the marker code).
            var markerPosition = position + 1
            while markerPosition < data.count, data[markerPosition] == 0xFF {
                markerPosition += 1
            }
            guard markerPosition < data.count else { return nil }
            let marker = data[markerPosition]
            position = markerPosition + 1
            switch marker {
            case 0xDA, 0xD9:  // start of scan, end of image: no more metadata
                return nil
            case 0x01, 0xD0...0xD7:  // TEM and RSTn stand alone
                continue
            case 0x00:
                return nil  // a stuffed zero is not a marker
            default:
                break
            }
            guard position + 2 <= data.count else { return nil }
            let length = Int(data[position]) << 8 | Int(data[position + 1])
            guard length >= 2, position + length <= data.count else { return nil }
            let payloadStart = position + 2
            let payloadEnd = position + length
            if marker == 0xE1, payloadEnd - payloadStart >= 6,
                data[payloadStart] == 0x45, data[payloadStart + 1] == 0x78,  // "Ex"
                data[payloadStart + 2] == 0x69, data[payloadStart + 3] == 0x66,  // "if"
                data[payloadStart + 4] == 0, data[payloadStart + 5] == 0
            {
                return (payloadStart + 6)..<payloadEnd
            }
            position = payloadEnd
        }
        return nil
    }

    /// Walks the PNG chunks up to IEND and returns the data of the first eXIf chunk (it may come
    /// before or, in older files, after the image data).
    private static func pngExif(in data: UnsafeRawBufferPointer) -> Range<Int>? {
        var position = 8
        while position + 8 <= data.count {
            let length = Int(readUInt32(data, at: position, bigEndian: true))
            let type = readUInt32(data, at: position + 4, bigEndian: true)
            let dataStart = position + 8
            guard length <= data.count - dataStart else { return nil }  // chunk runs past the end
            let dataEnd = dataStart + length
            switch type {
            case 0x6558_4966:  // "eXIf"
                // Some writers repeat the JPEG "Exif\0\0" prefix inside eXIf; tolerate it.
                if length >= 6, data[dataStart] == 0x45, data[dataStart + 1] == 0x78,
                    data[dataStart + 2] == 0x69, data[dataStart + 3] == 0x66,
                    data[dataStart + 4] == 0, data[dataStart + 5] == 0
                {
                    return (dataStart + 6)..<dataEnd
                }
                return dataStart..<dataEnd
            case 0x4945_4E44:  // "IEND"
                return nil
            default:
                break
            }
            // Data and the 4-byte CRC; a missing final CRC just ends the walk.
            position = dataEnd + 4
        }
        return nil
    }

    /// Finds tag 0x0112 in IFD0 of a TIFF structure.
    static func orientation(inTIFF tiff: UnsafeRawBufferPointer) -> Int? {
        guard tiff.count >= 8 else { return nil }
        let bigEndian: Bool
        switch (tiff[0], tiff[1]) {
        case (0x49, 0x49): bigEndian = false  // "II"
        case (0x4D, 0x4D): bigEndian = true  // "MM"
        default: return nil
        }
        guard readUInt16(tiff, at: 2, bigEndian: bigEndian) == 42 else { return nil }
        let ifdOffset = Int(readUInt32(tiff, at: 4, bigEndian: bigEndian))
        guard ifdOffset >= 8, ifdOffset <= tiff.count - 2 else { return nil }
        let entryCount = Int(readUInt16(tiff, at: ifdOffset, bigEndian: bigEndian))
        let entriesStart = ifdOffset + 2
        // Entries that do not fit are ignored rather than trusted.
        let available = (tiff.count - entriesStart) / 12
        for index in 0..<min(entryCount, available) {
            let entry = entriesStart + index * 12
            guard readUInt16(tiff, at: entry, bigEndian: bigEndian) == 0x0112 else { continue }
            let type = readUInt16(tiff, at: entry + 2, bigEndian: bigEndian)
            let count = readUInt32(tiff, at: entry + 4, bigEndian: bigEndian)
            guard count >= 1 else { return nil }
            let value: Int
            switch type {
            case 3:  // SHORT: the value sits in the first two bytes of the value field
                value = Int(readUInt16(tiff, at: entry + 8, bigEndian: bigEndian))
            case 4 where count == 1:  // LONG: non-standard, but written by some tools
                value = Int(readUInt32(tiff, at: entry + 8, bigEndian: bigEndian))
            default:
                return nil
            }
            return (1...8).contains(value) ? value : nil
        }
        return nil
    }

    /// Reads 2 bytes; the caller guarantees `offset + 2 <= bytes.count`.
    private static func readUInt16(_ bytes: UnsafeRawBufferPointer, at offset: Int, bigEndian: Bool)
        -> UInt16
    {
        let first = UInt16(bytes[offset])
        let second = UInt16(bytes[offset + 1])
        return bigEndian ? first << 8 | second : second << 8 | first
    }

    /// Reads 4 bytes; the caller guarantees `offset + 4 <= bytes.count`.
    private static func readUInt32(_ bytes: UnsafeRawBufferPointer, at offset: Int, bigEndian: Bool)
        -> UInt32
    {
        var value: UInt32 = 0
        for index in 0..<4 {
            let byte = UInt32(bytes[offset + (bigEndian ? index : 3 - index)])
            value = value << 8 | byte
        }
        return value
    }
}
