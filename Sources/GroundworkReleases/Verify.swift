import Crypto
import Foundation
import GroundworkCore

/// What `groundwork verify` reports.
public struct VerifyReport: Codable, Sendable, Equatable {
    public var folder: String
    public var version: String?
    public var format: String?
    public var filesChecked: Int
    public var bytesChecked: Int
    /// Listed in the manifest, absent from the folder.
    public var missing: [String]
    /// In the folder, not listed in the manifest.
    public var extra: [String]
    /// Present with another size or SHA-256 than the manifest lists.
    public var changed: [String]
    /// True when the manifest's root hash matches its own entries.
    public var rootHashValid: Bool
    /// Every problem, located.
    public var findings: [Diagnostic]

    /// True when the folder is exactly what its manifest describes.
    public var ok: Bool { findings.isEmpty }
}

/// Re-hashes an export against its manifest: every missing, extra or changed file is named.
public enum Verify {
    /// Verifies `folder`, hashing files on all cores.
    public static func run(_ folder: String, showProgress: Bool = false) throws -> VerifyReport {
        let root = FileIO.absolute(folder)
        let manifestPath = "\(root)/\(ExportManifest.fileName)"
        var findings: [Diagnostic] = []
        let bytes: [UInt8]
        do { bytes = try FileIO.readAll(manifestPath) } catch {
            throw DiagnosticsError(
                summary: "\(folder) is not a Groundwork export",
                diagnostics: [Diagnostic(.error, file: manifestPath, code: "missing_manifest", message: error.description)])
        }
        struct MinimalManifest: Decodable {
            var files: [ManifestEntry]
            var rootHash: String
            var format: String?
            var release: Release?
            struct Release: Decodable { var version: String? }
        }
        // Malformed JSON names its line, column and pointer; a member missing or of the wrong type its pointer.
        let manifest = try JSONDocument.decode(
            MinimalManifest.self, from: bytes, file: manifestPath, summary: "\(manifestPath) is not a valid manifest",
            snakeCaseKeys: true)
        let rootHashValid = ManifestEntry.rootHash(manifest.files) == manifest.rootHash
        if !rootHashValid {
            findings.append(
                Diagnostic(
                    .error, file: manifestPath, location: .jsonPointer("/root_hash"), code: "root_hash_mismatch",
                    message: "the root hash does not match the manifest's own file list (the manifest was edited)"))
        }
        // Files on disk.
        // Listed by raw names: a file whose name is not UTF-8 is an extra file, never unseen.
        var onDisk = Set<String>()
        for entry in (try? FileIO.listTree(root)) ?? [] where entry.isRegular || !entry.isValidName {
            if entry.path != ExportManifest.fileName { onDisk.insert(entry.path) }
        }
        let listed = Set(manifest.files.map(\.path))
        let missing = manifest.files.map(\.path).filter { !onDisk.contains($0) }.sorted()
        let extra = onDisk.subtracting(listed).sorted()
        let present = manifest.files.filter { onDisk.contains($0.path) }
        let progress = ProgressBar(total: present.count, label: "verifying", enabled: showProgress)
        var changed: [String] = []
        var checkedBytes = 0
        orderedParallelMap(count: present.count) { index -> (sha: String, size: Int)? in
            guard let data = try? FileIO.readAll("\(root)/\(present[index].path)") else { return nil }
            return (ManifestEntry.hex(SHA256.hash(data: data)), data.count)
        } consume: { index, result in
            progress.advance()
            let entry = present[index]
            guard let result, result.sha == entry.sha256, result.size == entry.size else {
                changed.append(entry.path)
                return
            }
            checkedBytes += result.size
        }
        progress.finish()
        for path in missing {
            findings.append(
                Diagnostic(.error, file: "\(root)/\(path)", code: "missing", message: "listed in the manifest, missing"))
        }
        for path in extra {
            findings.append(Diagnostic(.error, file: "\(root)/\(path)", code: "extra", message: "not listed in the manifest"))
        }
        for path in changed.sorted() {
            findings.append(
                Diagnostic(
                    .error, file: "\(root)/\(path)", code: "changed", message: "its size or SHA-256 differs from the manifest"))
        }
        return VerifyReport(
            folder: root, version: manifest.release?.version, format: manifest.format, filesChecked: present.count,
            bytesChecked: checkedBytes, missing: missing, extra: extra, changed: changed.sorted(), rootHashValid: rootHashValid,
            findings: findings)
    }
}
