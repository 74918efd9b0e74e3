import Foundation
import GRDB
import GroundworkCore
import GroundworkImaging

/// What `groundwork import images` was asked to do.
public struct ImageImportOptions: Sendable {
    /// Files and folders to import.
    public var paths: [String]
    /// The modality for files whose metadata row does not give one.
    public var modality: String?
    /// A name for where the files come from (a dataset, a hospital, a study).
    public var source: String?
    /// An SPDX licence identifier or expression for every file.
    public var license: String?
    /// A CSV of per-file metadata (see ``MetadataCSV``).
    public var metadataCSV: String?
    /// Walk folders recursively (otherwise only a folder's own files are taken).
    public var recursive = false
    /// Hard-link files into the store instead of copying them.
    public var link = false
    /// Import the good files and record the bad ones, instead of importing nothing.
    public var skipInvalid = false
    /// The decompression-bomb guard: larger images are rejected before they are decoded.
    public var maxPixels = ImageDecoder.defaultMaxPixels
    /// The command line, recorded in the import batch.
    public var arguments: [String] = []
    /// Draw a progress bar on standard error (only ever when it is a terminal).
    public var showProgress = true
    /// Worker threads for reading, hashing and decoding (default: one per core).
    public var workers = ProcessInfo.processInfo.activeProcessorCount
    /// How DICOM files are rendered, which frames become images, and de-identification.
    public var dicom = DICOMImportOptions()

    public init(paths: [String]) { self.paths = paths }
}

/// What an image import did.
public struct ImageImportReport: Codable, Sendable, Equatable {
    /// A file whose bytes were already in the project, or already earlier in this import.
    public struct Duplicate: Codable, Sendable, Equatable {
        public var path: String
        public var sha256: String
        /// The image already in the project with the same bytes (nil when it is new in this import).
        public var existingImageId: Int64?
        /// The earlier file of this import with the same bytes.
        public var sameAs: String?
        /// The frame of a DICOM file whose rendering is the same as another image's.
        public var frame: Int? = nil
    }

    /// A file that could not be imported, and why.
    public struct Rejected: Codable, Sendable, Equatable {
        public var path: String
        public var kind: String
        public var reason: String
    }

    /// The import batch that records this import (nil when nothing was written).
    public var batchId: Int64?
    /// Whether the import was written to the project.
    public var committed: Bool
    public var filesSeen: Int
    public var imported: Int
    public var duplicates: [Duplicate]
    public var rejected: [Rejected]
    /// Bytes and pixels of the newly imported images.
    public var bytes: Int
    public var pixels: Int
}

/// Why an import did not start.
public enum ImageImportError: Error, Sendable, CustomStringConvertible {
    /// Paths that do not exist, or a metadata CSV with problems: every problem is listed.
    case invalidInput(DiagnosticsError)
    /// The project could not be written.
    case storage(String)

    public var description: String {
        switch self {
        case .invalidInput(let error): return error.description
        case .storage(let message): return message
        }
    }
}

/// Imports image files into a project.
///
/// The pipeline: expand the paths (sorted, so the same command imports in the same order);
/// check the metadata CSV against them; then, on every core, read each file once, hash it
/// (SHA-256), skip it if the project already holds those bytes, decode it fully to prove it is
/// sound, and place it in `objects/`; on the calling thread, insert its row. Workers never run
/// more than a small window ahead of the writer, so memory stays flat however many files come.
///
/// All rows of one import are written in one transaction, after its objects are in place: a
/// killed import leaves the database as it was (its objects stay as unreferenced files that
/// `groundwork check` reports and a re-run reuses). Without `skipInvalid`, any bad file means
/// nothing is imported, every bad file is reported, and the objects this run added are removed.
public enum ImageImporter {
    /// Runs an import. Returns the report also when files were rejected and nothing was written.
    public static func run(_ options: ImageImportOptions, into project: Project) throws(ImageImportError) -> ImageImportReport {
        let started = Date()
        let (files, problems, refused) = expand(options.paths, recursive: options.recursive, excluding: project)
        if !problems.isEmpty {
            throw .invalidInput(DiagnosticsError(summary: "\(problems.count) path(s) cannot be imported", diagnostics: problems))
        }
        var metadata = MetadataTable.empty(files)
        var metadataSha: String?
        var metadataPath: String?
        if let csv = options.metadataCSV {
            let bytes: [UInt8]
            do { bytes = try FileIO.readAll(csv) } catch {
                throw .invalidInput(
                    DiagnosticsError(
                        summary: "the metadata CSV cannot be read",
                        diagnostics: [Diagnostic(.error, file: csv, code: "unreadable", message: error.reason)]))
            }
            switch MetadataCSV.parse(bytes: bytes, file: csv, importing: files) {
            case .success(let parsed): metadata = parsed
            case .failure(let error): throw .invalidInput(error)
            }
            metadataSha = bytes.withUnsafeBytes { ObjectStore.sha256($0) }
            metadataPath = FileIO.absolute(csv)
        }

        // Workers look up hashes on a connection of their own while this one writes.
        let reader: DatabaseQueue
        do { reader = try project.makeReader() } catch { throw .storage(error.description) }
        // Closed when the import ends, not when a worker thread lets go of it: the project's own
        // connection, closed last, then removes the WAL files.
        defer { try? reader.close() }
        let worker = FileWorker(
            project: project, reader: reader, files: files, metadata: metadata, options: options)
        if !refused.isEmpty && !options.skipInvalid { worker.abandon() }
        // Fan-out folders this run makes are removed again when nothing of it is kept.
        let foldersBefore = project.objects.folders()
        let progress = ProgressBar(total: files.count, label: "importing", enabled: options.showProgress)
        defer { progress.finish() }

        var report = ImageImportReport(
            batchId: nil, committed: false, filesSeen: files.count, imported: 0, duplicates: [], rejected: [],
            bytes: 0, pixels: 0)
        // Folder entries that cannot be imported (a name that is not UTF-8, a pipe) are bad files
        // like any other: listed, and nothing is imported unless `skipInvalid`.
        report.rejected = refused.map { .init(path: $0.path, kind: $0.kind, reason: $0.reason) }
        report.filesSeen += refused.count
        var createdObjects = ObjectList(expected: files.count)
        let identity = Provenance.current()
        var batch = ImportBatch(
            id: nil, kind: "images", startedAt: Provenance.timestamp(started), finishedAt: Provenance.timestamp(started),
            user: identity.user, host: identity.host, toolVersion: GroundworkVersion.current,
            arguments: Provenance.json(options.arguments), inputs: Provenance.json(options.paths.map { FileIO.absolute($0) }),
            metadataPath: metadataPath, metadataSha256: metadataSha, filesSeen: report.filesSeen, imported: 0, duplicates: 0,
            rejected: 0, outcome: "completed")

        do {
            try project.database.writeWithoutTransaction { db in
                try db.inTransaction(.immediate) {
                    try batch.insert(db)
                    let batchId = batch.id!
                    try orderedParallelMap(
                        count: files.count, workers: options.workers, window: 4 * max(options.workers, 1),
                        transform: { worker.process($0) },
                        consume: { _, outcome in
                            defer { progress.advance() }
                            switch outcome {
                            case .rejected(let path, let kind, let reason):
                                report.rejected.append(.init(path: path, kind: kind, reason: reason))
                                if !options.skipInvalid { worker.abandon() }
                            case .known(let path, let sha, let id):
                                report.duplicates.append(.init(path: path, sha256: sha, existingImageId: id, sameAs: nil))
                            case .ready(let records, let created):
                                for sha in created { createdObjects.append(sha) }
                                if worker.abandoned { return }
                                for var record in records {
                                    if let earlier = try Row.fetchOne(
                                        db, sql: "SELECT original_path FROM image WHERE sha256 = ?",
                                        arguments: [record.sha256])
                                    {
                                        report.duplicates.append(
                                            .init(
                                                path: record.originalPath, sha256: record.sha256, existingImageId: nil,
                                                sameAs: earlier["original_path"], frame: record.frameNumber))
                                        continue
                                    }
                                    record.batchId = batchId
                                    try record.insert(db)
                                    report.imported += 1
                                    report.bytes += record.byteSize
                                    report.pixels += record.width * record.height
                                }
                            }
                        })
                    if !report.rejected.isEmpty && !options.skipInvalid {
                        throw Rollback()
                    }
                    batch.finishedAt = Provenance.timestamp(Date())
                    batch.imported = report.imported
                    batch.duplicates = report.duplicates.count
                    batch.rejected = report.rejected.count
                    batch.outcome = report.rejected.isEmpty ? "completed" : "completed_with_rejections"
                    try batch.update(db)
                    for rejected in report.rejected {
                        var row = ImportRejection(
                            id: nil, batchId: batchId, path: rejected.path, kind: rejected.kind, reason: rejected.reason)
                        try row.insert(db)
                    }
                    return .commit
                }
            }
            report.committed = true
            report.batchId = batch.id
            // Objects this run placed that no row refers to (a DICOM file whose every frame renders
            // like an image already in the project) are not kept. They are new to the store, so no
            // release refers to them: only the image table is asked, object by object.
            if !createdObjects.isEmpty {
                let unreferenced = try? project.database.read { db in
                    try createdObjects.filter { try !ImageRecord.refersToObject(db, sha256: $0) }
                }
                if let unreferenced {
                    for sha in Set(unreferenced) { project.objects.remove(sha) }
                    project.objects.removeEmptyFolders(except: foldersBefore)
                }
            }
        } catch is Rollback {
            createdObjects.forEach { project.objects.remove($0) }
            project.objects.removeEmptyFolders(except: foldersBefore)
            report.imported = 0
            report.bytes = 0
            report.pixels = 0
        } catch {
            createdObjects.forEach { project.objects.remove($0) }
            project.objects.removeEmptyFolders(except: foldersBefore)
            throw .storage("the import could not be written, nothing was imported: \(error)")
        }
        return report
    }

    private struct Rollback: Error {}

    /// The objects an import created, as 32 bytes each (not a 64-character string each): an
    /// import of millions of files keeps the list in tens of megabytes.
    struct ObjectList {
        private var digests: [UInt8] = []

        /// A list with room for `expected` objects (about one a file), so that it does not grow
        /// by copies as an import of many files goes.
        init(expected: Int = 0) { digests.reserveCapacity(32 * max(0, expected)) }

        var isEmpty: Bool { digests.isEmpty }

        /// Adds an object by its SHA-256 in hex.
        mutating func append(_ sha256: String) {
            let hex = Array(sha256.utf8)
            precondition(hex.count == 64, "an object name is 64 hex digits")
            for index in stride(from: 0, to: 64, by: 2) {
                digests.append(Self.nibble(hex[index]) << 4 | Self.nibble(hex[index + 1]))
            }
        }

        private static func nibble(_ digit: UInt8) -> UInt8 {
            digit <= UInt8(ascii: "9") ? digit - UInt8(ascii: "0") : digit - UInt8(ascii: "a") + 10
        }

        /// Each object's SHA-256 in hex, in the order added.
        func forEach(_ body: (String) throws -> Void) rethrows {
            let digits = Array("0123456789abcdef".utf8)
            var hex = [UInt8](repeating: 0, count: 64)
            for start in stride(from: 0, to: digests.count, by: 32) {
                for offset in 0..<32 {
                    hex[2 * offset] = digits[Int(digests[start + offset] >> 4)]
                    hex[2 * offset + 1] = digits[Int(digests[start + offset] & 0x0F)]
                }
                try body(String(decoding: hex, as: UTF8.self))
            }
        }

        /// The objects for which `isIncluded` is true, in hex.
        func filter(_ isIncluded: (String) throws -> Bool) rethrows -> [String] {
            var kept: [String] = []
            try forEach { if try isIncluded($0) { kept.append($0) } }
            return kept
        }
    }

    /// A folder entry that cannot be imported, found while listing.
    struct RefusedEntry: Equatable {
        /// The path, with bytes that are not UTF-8 escaped as `\xNN`.
        var path: String
        var kind: String
        var reason: String
    }

    /// Expands files and folders into a sorted list of absolute file paths.
    ///
    /// Folders give their regular files in byte order of name, recursing only when asked;
    /// hidden entries (names starting with a dot) are skipped, and so is the project's own folder.
    /// Entries that cannot be imported are returned as refused, never dropped: a name that is not
    /// valid UTF-8 (`bad_file_name`: it cannot be opened or recorded byte-exactly) and a named
    /// pipe, socket or device (`not_a_file`). Given paths that are missing or not a file or
    /// folder are problems (the import does not start).
    static func expand(
        _ paths: [String], recursive: Bool, excluding project: Project
    ) -> (files: PathList, problems: [Diagnostic], refused: [RefusedEntry]) {
        var files = PathList()
        var refusedPaths: Set<String> = []
        var problems: [Diagnostic] = []
        var refused: [RefusedEntry] = []
        let objectsRoot = project.objects.root
        let databaseFiles = Set(["", "-wal", "-shm", "-journal"].map { "\(project.root)/\(Project.databaseName)\($0)" })
        func isProjectInternal(_ path: String) -> Bool {
            path == objectsRoot || path.hasPrefix(objectsRoot + "/") || databaseFiles.contains(path)
        }
        func add(_ path: String) { files.append(path) }
        func walk(_ folder: String) {
            let entries: [FileIO.FolderEntry]
            do { entries = try FileIO.listFolder(folder) } catch {
                problems.append(
                    Diagnostic(.error, file: folder, code: "unreadable", message: "cannot list this folder: \(error.reason)"))
                return
            }
            for entry in entries where !entry.isHidden {
                guard let name = entry.name else {
                    refused.append(
                        RefusedEntry(
                            path: folder + "/" + entry.displayName, kind: "bad_file_name",
                            reason: "the file name is not valid UTF-8 (invalid bytes shown as \\xNN): rename it to import it"))
                    continue
                }
                let path = folder + "/" + name
                if isProjectInternal(path) { continue }
                var st = stat()
                guard stat(path, &st) == 0 else { continue }  // a dangling link
                let kind = FileIO.kind(path)
                if kind.isRegular {
                    add(path)
                } else if kind.isDirectory {
                    if recursive && !isSymlink(path) { walk(path) }
                } else if refusedPaths.insert(path).inserted {
                    refused.append(
                        RefusedEntry(
                            path: path, kind: "not_a_file",
                            reason: "it is \(FileIO.describe(mode: st.st_mode)), not a regular file"))
                }
            }
        }
        for given in paths {
            let path = FileIO.absolute(given)
            let kind = FileIO.kind(path)
            if !kind.exists {
                problems.append(Diagnostic(.error, file: given, code: "not_found", message: "no such file or folder"))
            } else if isProjectInternal(path) {
                problems.append(
                    Diagnostic(.error, file: given, code: "inside_project", message: "this is part of the project's own store"))
            } else if kind.isDirectory {
                walk(path)
            } else if kind.isRegular {
                add(path)
            } else {
                problems.append(Diagnostic(.error, file: given, code: "not_a_file", message: "not a regular file or folder"))
            }
        }
        files.removeDuplicates()
        return (files, problems, refused)
    }

    private static func isSymlink(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFLNK
    }
}

/// What happened to one file on a worker thread.
enum FileOutcome: Sendable {
    /// Read, hashed, decoded and placed in the store: rows to insert (one per DICOM frame), and
    /// the objects this run created.
    case ready([ImageRecord], createdObjects: [String])
    /// The project already holds these bytes.
    case known(path: String, sha256: String, imageId: Int64)
    case rejected(path: String, kind: String, reason: String)
}

/// The per-file work of an import, safe to run on several threads at once.
final class FileWorker: @unchecked Sendable {
    private let project: Project
    /// A connection of its own: the project's is busy writing while workers run.
    private let reader: DatabaseQueue
    private let files: PathList
    private let metadata: MetadataTable
    private let options: ImageImportOptions
    private let lock = NSLock()
    private var isAbandoned = false
    private let deidentificationKey: [UInt8]?

    init(
        project: Project, reader: DatabaseQueue, files: PathList, metadata: MetadataTable,
        options: ImageImportOptions
    ) {
        self.project = project
        self.reader = reader
        self.files = files
        self.metadata = metadata
        self.options = options
        deidentificationKey =
            options.dicom.deidentification == nil ? nil : (try? reader.read { try Deidentifier.projectKey($0) }) ?? nil
    }

    /// Once a file is rejected in all-or-nothing mode, nothing more is written; files are still checked.
    func abandon() {
        lock.lock()
        isAbandoned = true
        lock.unlock()
    }

    var abandoned: Bool {
        lock.lock()
        defer { lock.unlock() }
        return isAbandoned
    }

    func process(_ index: Int) -> FileOutcome {
        let path = files[index]
        let bytes: [UInt8]
        do {
            bytes = try FileIO.readAll(path)
        } catch {
            return .rejected(path: path, kind: "unreadable", reason: "cannot read: \(error.reason)")
        }
        if bytes.isEmpty {
            return .rejected(path: path, kind: "empty", reason: "the file is empty")
        }
        let sha = bytes.withUnsafeBytes { ObjectStore.sha256($0) }
        if let existing = try? reader.read({ db in
            try Int64.fetchOne(db, sql: "SELECT id FROM image WHERE sha256 = ?", arguments: [sha])
        }) {
            return .known(path: path, sha256: sha, imageId: existing)
        }
        if FormatSniffer.detect(bytes) == .dicom {
            return processDICOM(path: path, bytes: bytes, metadata: metadata.metadata(at: index) ?? ImageMetadata())
        }
        let info: ImageInfo
        do throws(ImageDecodeError) {
            info = try ImageDecoder.validate(bytes, maxPixels: options.maxPixels)
        } catch {
            return .rejected(path: path, kind: error.kind.rawValue, reason: Self.reason(for: error, path: path))
        }
        var created = false
        var storage = "copy"
        if !abandoned {
            do throws(FileIOError) {
                if options.link {
                    let result = try project.objects.link(from: path, bytes: bytes, sha256: sha)
                    created = result.created
                    storage = result.linked ? "link" : "copy"
                } else {
                    created = try project.objects.put(bytes, sha256: sha)
                }
            } catch {
                return .rejected(path: path, kind: "store_failed", reason: "cannot store: \(error.description)")
            }
        }
        let meta = metadata.metadata(at: index) ?? ImageMetadata()
        let attributes: String
        if meta.attributes.isEmpty {
            attributes = "{}"
        } else {
            attributes = (try? CanonicalJSON.string(meta.attributes, pretty: false)) ?? "{}"
        }
        let record = ImageRecord(
            id: nil, sha256: sha, format: info.format.rawValue, byteSize: bytes.count, width: info.width,
            height: info.height, channels: info.channels, bitDepth: info.bitDepth, sourceBitDepth: info.sourceBitDepth,
            photometric: info.photometric.rawValue, interlaced: info.interlaced, exifOrientation: info.orientation,
            modality: meta.modality ?? options.modality, bodyPart: meta.bodyPart, patientId: meta.patientId,
            studyId: meta.studyId, source: options.source, license: options.license, originalPath: path,
            storage: storage, attributes: attributes, batchId: 0)
        return .ready([record], createdObjects: created ? [sha] : [])
    }

    /// A DICOM file: (de-identified,) decoded, each frame rendered to a PNG; the DICOM file and
    /// the PNGs are placed in the store.
    private func processDICOM(path: String, bytes: [UInt8], metadata: ImageMetadata) -> FileOutcome {
        let frame = options.dicom.frame
        let prepared: (result: DICOMImportResult?, known: (sha256: String, imageId: Int64)?)
        do throws(DICOMError) {
            prepared = try DICOMImport.prepare(
                path: path, bytes: bytes, options: options.dicom, maxPixels: options.maxPixels, key: deidentificationKey,
                metadata: metadata, base: options
            ) { sha in
                try? self.reader.read { db in
                    try Int64.fetchOne(
                        db,
                        sql: """
                            SELECT id FROM image WHERE dicom_sha256 = ?
                            AND (? IS NULL OR frame_number = ? OR frame_number = 1 AND NOT EXISTS
                                 (SELECT 1 FROM image i WHERE i.dicom_sha256 = image.dicom_sha256 AND i.frame_number > 1))
                            ORDER BY id
                            """,
                        arguments: [sha, frame, frame])
                }
            }
        } catch {
            return .rejected(path: path, kind: error.code, reason: DICOMImport.reason(error))
        }
        if let known = prepared.known { return .known(path: path, sha256: known.sha256, imageId: known.imageId) }
        guard let result = prepared.result else {
            return .rejected(path: path, kind: "corrupt", reason: "DICOM: nothing to import")
        }
        var created: [String] = []
        if !abandoned {
            for object in result.objects {
                do throws(FileIOError) {
                    if try project.objects.put(object.bytes, sha256: object.sha256) { created.append(object.sha256) }
                } catch {
                    for sha in created { project.objects.remove(sha) }
                    return .rejected(path: path, kind: "store_failed", reason: "cannot store: \(error.description)")
                }
            }
        }
        return .ready(result.records, createdObjects: created)
    }

    private static func reason(for error: ImageDecodeError, path: String) -> String {
        if error.kind == .unrecognized {
            let ext = (path as NSString).pathExtension.lowercased()
            let claimed: String? =
                switch ext {
                case "png": "PNG"
                case "jpg", "jpeg", "jpe": "JPEG"
                case "dcm", "dicom": "DICOM"
                default: nil
                }
            if let claimed { return "\(error.message) (the name says \(claimed), the content does not)" }
        }
        return error.message
    }
}
