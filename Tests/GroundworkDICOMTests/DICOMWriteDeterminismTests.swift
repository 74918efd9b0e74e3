import Foundation
import GroundworkCore
import GroundworkImaging
import Testing

/// Writing a DICOM file gives the same bytes every time (no UID or date made up by DCMTK), and a
/// file cut short in its meta information fails with a clean message that names the tag.
@Suite(
    "DICOM writes are deterministic",
    .enabled(if: Pydicom.available, "set GROUNDWORK_PYTHON to a python3 with pydicom to run this (tools/test does)"))
struct DICOMWriteDeterminismTests {
    /// pydicom's test files: without SOP Instance UID (empty_charset_LEI, nested_priv_SQ,
    /// UN_sequence, priv_SQ, no_meta_group_length), nested and private sequences, an empty
    /// Specific Character Set, sequences of a plan, private tags and a deflated dataset.
    static let files = [
        "empty_charset_LEI.dcm", "nested_priv_SQ.dcm", "UN_sequence.dcm", "priv_SQ.dcm", "no_meta_group_length.dcm",
        "rtplan.dcm", "CT_small.dcm", "image_dfl.dcm",
    ]

    /// Files whose dataset has no SOP Instance UID.
    static let withoutInstanceUID: Set<String> = [
        "empty_charset_LEI.dcm", "nested_priv_SQ.dcm", "UN_sequence.dcm", "priv_SQ.dcm", "no_meta_group_length.dcm",
    ]

    /// Opens `path` afresh and writes it back.
    func written(_ path: String, _ change: (DICOMFile) throws -> Void = { _ in }) throws -> [UInt8] {
        let file = try DICOMFile(bytes: try FileIO.readAll(path))
        try change(file)
        return try file.write()
    }

    @Test func writingTwiceGivesTheSameBytes() throws {
        let paths = try Pydicom.paths(Self.files)
        var instanceUIDs: Set<String> = []
        for name in Self.files {
            let path = try #require(paths[name])
            let first = try written(path)
            let second = try written(path)
            #expect(first == second, "\(name): two writes differ")
            // The meta information always names the instance: the dataset's SOP Instance UID, the
            // file's own, or (for neither) one derived from the dataset.
            let meta = try DICOMFile(bytes: first).attributes()
            let uid = try #require(meta["MediaStorageSOPInstanceUID"]?.stringValue, "\(name)")
            #expect(!uid.isEmpty && uid.count <= 64, "\(name): \(uid)")
            #expect(!uid.hasPrefix("1.2.276.0.7230010.3.1.4."), "\(name): a UID made up by DCMTK (\(uid))")
            if let sop = try DICOMFile(bytes: try FileIO.readAll(path)).attributes()["SOPInstanceUID"]?.stringValue {
                #expect(uid == sop, "\(name)")
            }
            if name == "nested_priv_SQ.dcm" || name == "empty_charset_LEI.dcm" {
                #expect(uid.hasPrefix("2.25."), "\(name): \(uid)")
            }
            if Self.withoutInstanceUID.contains(name) { instanceUIDs.insert(uid) }
            // Writing what was written gives it back unchanged.
            #expect(try DICOMFile(bytes: first).write() == first, "\(name): a second round changes the file")
        }
        // Different datasets, different derived UIDs.
        #expect(instanceUIDs.count == Self.withoutInstanceUID.count)
    }

    @Test func deidentifiedWritesAreTheSameAndDropTheOriginalInstanceUID() throws {
        let paths = try Pydicom.paths(Self.files)
        let rules: [DICOMFile.Rule] = [
            .init(tag: 0x0010_0010, action: .empty), .init(tag: 0x0010_0020, action: .dummy, value: "ANON"),
            .init(tag: 0x0008_0018, action: .replaceUID), .init(tag: 0x0020_000D, action: .replaceUID),
            .init(tag: 0x0020_000E, action: .replaceUID), .init(tag: 0x0008_1155, action: .replaceUID),
            .init(tag: 0x0008_0020, action: .remove),
        ]
        func deidentified(_ path: String) throws -> [UInt8] {
            try written(path) { file in
                let uids = try file.uids(replacedBy: rules)
                var map: [String: String] = [:]
                for (index, uid) in uids.enumerated() { map[uid] = "2.25.\(index + 1)" }
                try file.deidentify(rules: rules, removePrivate: true, uidMap: map, cleanWords: [])
                try file.setString(0x0012_0062, "YES")
                try file.addDeidentificationCode(
                    value: "113100", scheme: "DCM", meaning: "Basic Application Confidentiality Profile")
            }
        }
        for name in Self.files {
            let path = try #require(paths[name])
            let first = try deidentified(path)
            #expect(first == (try deidentified(path)), "\(name): two de-identified writes differ")
            let original = try DICOMFile(bytes: try FileIO.readAll(path)).attributes()
            if original["SOPInstanceUID"] == nil, let uid = original["MediaStorageSOPInstanceUID"]?.stringValue,
                !uid.isEmpty
            {
                // Without a SOP Instance UID in the dataset, the original's in the meta information
                // would have stayed: it does not.
                #expect(!contains(first, uid), "\(name): the original Media Storage SOP Instance UID survives")
            }
        }
    }

    /// The offsets of the Transfer Syntax UID's value in a file's bytes.
    func transferSyntaxValue(_ bytes: [UInt8]) throws -> Range<Int> {
        let tag: [UInt8] = [0x02, 0x00, 0x10, 0x00, 0x55, 0x49]  // (0002,0010) UI, explicit VR little endian
        let start = try #require(
            (132..<(bytes.count - tag.count)).first { bytes[$0..<($0 + tag.count)].elementsEqual(tag) })
        let length = Int(bytes[start + 6]) | Int(bytes[start + 7]) << 8
        return (start + 8)..<(start + 8 + length)
    }

    @Test func aFileCutInsideItsTransferSyntaxNamesTheTagCleanly() throws {
        let path = try #require(try Pydicom.paths(["JPEGLSNearLossless_08.dcm"])["JPEGLSNearLossless_08.dcm"])
        let bytes = try FileIO.readAll(path)
        let value = try transferSyntaxValue(bytes)
        #expect(value.contains(274 - 1), "the reported case: cut to 274 bytes, inside the UID")
        // Cut at every byte of the value, from none of it read to all but its last byte.
        for size in value.lowerBound..<value.upperBound {
            do {
                _ = try DICOMFile(bytes: Array(bytes[0..<size]))
                Issue.record("cut to \(size) bytes: opened")
            } catch {
                #expect(error.kind == .truncated, "cut to \(size) bytes: \(error)")
                #expect(error.location == "(0002,0010) TransferSyntaxUID", "cut to \(size) bytes: \(error)")
                #expect(error.message.contains("(0002,0010)"), "cut to \(size) bytes: \(error)")
                let text = error.message + error.location
                #expect(text.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value < 0x7F }, "\(size): \(text)")
            }
        }
    }

    @Test func aTransferSyntaxWithBadBytesIsShownEscaped() throws {
        let path = try #require(try Pydicom.paths(["JPEGLSNearLossless_08.dcm"])["JPEGLSNearLossless_08.dcm"])
        var bytes = try FileIO.readAll(path)
        let value = try transferSyntaxValue(bytes)
        bytes[value.lowerBound + 2] = 0x07
        bytes[value.lowerBound + 3] = 0xC3
        do {
            _ = try DICOMFile(bytes: bytes)
            Issue.record("opened a file with an unknown transfer syntax")
        } catch {
            #expect(error.kind == .unsupported)
            #expect(error.message.contains("1.\\x07\\xC3"), "\(error.message)")
            let text = error.message + error.location
            #expect(text.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value < 0x7F }, "\(text)")
        }
    }
}
