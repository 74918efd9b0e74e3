import Foundation
import GRDB
import GroundworkCore

/// A Groundwork project: a folder with one SQLite database (`groundwork.sqlite`) and a
/// content-addressed store of the imported files (`objects/`).
///
/// Open one with ``Project/create(at:)`` or ``Project/open(at:access:)``, or find the one that
/// holds the working directory with ``Project/locate(from:access:)``, as git finds its repository.
///
/// A project opened ``Access/readOnly`` changes no byte of its folder: its connection is opened
/// `SQLITE_OPEN_READONLY`, no migration runs (a database of an older or newer schema is refused
/// with ``ProjectError/olderSchema(_:applied:known:)`` or ``ProjectError/newerSchema(_:unknown:)``),
/// and the `-wal` and `-shm` files SQLite needs while reading a WAL database are removed again when
/// the project is released (a read-only connection cannot remove them itself; a second, read-write
/// connection that never writes is closed last and does). A project opened ``Access/readWrite``
/// migrates the database to this build's schema and writes nothing else until asked to.
public final class Project: Sendable {
    /// The database file's name inside a project folder.
    public static let databaseName = "groundwork.sqlite"
    /// The object store's folder name inside a project folder.
    public static let objectsName = "objects"

    /// What a command may do to the project.
    public enum Access: Sendable, Equatable {
        /// Read only: no byte of the project changes, no migration runs.
        case readOnly
        /// Read and write: the database is migrated to this build's schema on opening.
        case readWrite
    }

    /// The project folder (absolute).
    public let root: String
    /// Whether the project was opened for writing.
    public let access: Access
    /// The database: WAL journal, foreign keys on; migrated to the current schema when opened
    /// ``Access/readWrite``, refusing writes when opened ``Access/readOnly``.
    ///
    /// One connection: a `read` from another thread waits for a `write` in progress. Threads that
    /// read while this connection writes (an import's workers) use ``makeReader()``.
    public let database: DatabaseQueue
    /// The content-addressed file store.
    public let objects: ObjectStore
    /// The migrations applied when the project was opened (empty when its database was up to date).
    public let migratedOnOpening: [String]
    /// Read-only projects: a read-write connection that never writes, closed after ``database``,
    /// so that SQLite removes the `-wal` and `-shm` files (see the type's discussion).
    private let janitor: DatabaseQueue?

    private init(root: String, access: Access, database: DatabaseQueue, janitor: DatabaseQueue?, migrated: [String]) {
        self.root = root
        self.migratedOnOpening = migrated
        self.access = access
        self.database = database
        self.janitor = janitor
        self.objects = ObjectStore(root: (root as NSString).appendingPathComponent(Self.objectsName))
    }

    deinit {
        // The read-only connection first: the last connection to close cleans up the WAL files.
        if janitor != nil { try? database.close() }
    }

    /// Closes the database connections now (the read-only one first, so that SQLite removes the
    /// WAL files), rather than when the last reference goes, which a worker thread may hold until
    /// after the process has exited. Using ``database`` afterwards throws.
    public func close() {
        try? database.close()
        try? janitor?.close()
    }

    /// The database file's path.
    public var databasePath: String { (root as NSString).appendingPathComponent(Self.databaseName) }

    /// Creates a new project in `folder` (made if missing). Refuses a folder that already holds one.
    public static func create(at folder: String) throws(ProjectError) -> Project {
        let root = FileIO.absolute(folder)
        let dbPath = (root as NSString).appendingPathComponent(databaseName)
        if FileIO.kind(dbPath).exists { throw .alreadyExists(root) }
        let kind = FileIO.kind(root)
        if kind.exists && !kind.isDirectory { throw .notAFolder(root) }
        // Never inside another project (its objects/ included) or inside an export or results folder.
        do { _ = try OutputGuard.checkPlacement(root, project: nil) } catch { throw .misplaced(error.description) }
        do {
            try FileIO.makeDirectories(root)
            try FileIO.makeDirectories((root as NSString).appendingPathComponent(objectsName))
        } catch {
            throw .io(error.description)
        }
        return try openDatabase(root: root, access: .readWrite)
    }

    /// Opens the project in `folder`, for reading and writing unless `access` says otherwise.
    public static func open(at folder: String, access: Access = .readWrite) throws(ProjectError) -> Project {
        let root = FileIO.absolute(folder)
        let dbPath = (root as NSString).appendingPathComponent(databaseName)
        guard FileIO.kind(dbPath).isRegular else { throw .notFound(root) }
        return try openDatabase(root: root, access: access)
    }

    /// Finds the project whose folder is `start` or one of its ancestors.
    public static func locate(
        from start: String = FileManager.default.currentDirectoryPath, access: Access = .readWrite
    ) throws(ProjectError) -> Project {
        var folder = FileIO.absolute(start)
        while true {
            if FileIO.kind((folder as NSString).appendingPathComponent(databaseName)).isRegular {
                return try open(at: folder, access: access)
            }
            let parent = (folder as NSString).deletingLastPathComponent
            if parent == folder || parent.isEmpty { throw .notFound(FileIO.absolute(start)) }
            folder = parent
        }
    }

    /// A second connection to the database, for threads that read while ``database`` is inside a
    /// write (it sees what was committed before that write began). Use it only to read.
    public func makeReader() throws(ProjectError) -> DatabaseQueue {
        do {
            return try DatabaseQueue(path: databasePath, configuration: Self.configuration(readOnly: false))
        } catch {
            throw .database("\(databasePath): \(error)")
        }
    }

    /// The migrations this build knows, in order, and those the database has applied.
    public func schemaState() throws -> (known: [String], applied: [String]) {
        let migrator = Schema.migrator
        return try database.read { db in (migrator.migrations, try migrator.appliedMigrations(db)) }
    }

    /// The connection settings. The journal mode is left as the database has it (WAL, set when
    /// the project is created): GRDB's WAL set-up creates and drops a table on every opening,
    /// which a command that only reads, or an import that is refused, must not do.
    private static func configuration(readOnly: Bool) -> Configuration {
        var config = Configuration()
        config.readonly = readOnly
        config.foreignKeysEnabled = true
        config.busyMode = .timeout(10)
        config.label = "groundwork"
        config.journalMode = .default
        if !readOnly {
            // WAL's usual durability trade-off (a power cut may lose the last commit, never corrupt).
            config.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = NORMAL") }
        }
        return config
    }

    private static func openDatabase(root: String, access: Access) throws(ProjectError) -> Project {
        let dbPath = (root as NSString).appendingPathComponent(databaseName)
        let queue: DatabaseQueue
        var janitor: DatabaseQueue?
        do {
            if access == .readOnly {
                // Opened (and reading, so that it holds the WAL files) before the read-only connection.
                let keeper = try DatabaseQueue(path: dbPath, configuration: configuration(readOnly: false))
                _ = try? keeper.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_master") }
                janitor = keeper
            }
            queue = try DatabaseQueue(path: dbPath, configuration: configuration(readOnly: access == .readOnly))
        } catch {
            try? janitor?.close()
            throw .database("\(dbPath): \(error)")
        }
        // Refused: close the read-only connection before the one that cleans up.
        func closing(_ error: ProjectError) -> ProjectError {
            try? queue.close()
            try? janitor?.close()
            return error
        }
        let migrator = Schema.migrator
        let known = migrator.migrations
        var migrated: [String] = []
        do {
            let applied = try queue.read { db in try migrator.appliedIdentifiers(db) }
            let unknown = applied.subtracting(known)
            if !unknown.isEmpty { throw ProjectError.newerSchema(dbPath, unknown: unknown.sorted()) }
            if !Set(known).isSubset(of: applied) {
                guard access == .readWrite else {
                    throw ProjectError.olderSchema(dbPath, applied: applied.count, known: known.count)
                }
                let mode = try queue.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
                if mode != "wal" {
                    _ = try queue.writeWithoutTransaction { db in try String.fetchOne(db, sql: "PRAGMA journal_mode = WAL") }
                }
                try migrator.migrate(queue)
                migrated = known.filter { !applied.contains($0) }
            }
            let project = Project(root: root, access: access, database: queue, janitor: janitor, migrated: migrated)
            if access == .readWrite { try FileIO.makeDirectories(project.objects.root) }
            return project
        } catch let error as ProjectError {
            throw closing(error)
        } catch let error as FileIOError {
            throw closing(.io(error.description))
        } catch {
            throw closing(.database("\(dbPath): \(error)"))
        }
    }
}

/// Why a project could not be created or opened.
public enum ProjectError: Error, Sendable, CustomStringConvertible {
    case notFound(String)
    case alreadyExists(String)
    case notAFolder(String)
    /// The folder lies inside another project, an export or a results folder.
    case misplaced(String)
    case io(String)
    case database(String)
    /// The database has fewer migrations than this build (path, applied, known): a command that
    /// only reads does not migrate it.
    case olderSchema(String, applied: Int, known: Int)
    /// The database was migrated by a newer build (path, the migrations this build does not know).
    case newerSchema(String, unknown: [String])

    public var description: String {
        switch self {
        case .notFound(let path):
            return
                "no Groundwork project at \(path) or any folder above it (create one with 'groundwork init', or pass --project DIR)"
        case .alreadyExists(let path): return "\(path) already holds a Groundwork project"
        case .notAFolder(let path): return "\(path) exists and is not a folder"
        case .misplaced(let message): return message
        case .io(let message): return message
        case .database(let message): return "database error: \(message)"
        case .olderSchema(let path, let applied, let known):
            return
                "\(path) has an older schema (\(applied) of this groundwork's \(known) migrations); commands that only read do not change it: run 'groundwork migrate' (or any command that writes) to bring it up to date"
        case .newerSchema(let path, let unknown):
            return
                "\(path) was written by a newer groundwork (migrations this build does not know: \(unknown.joined(separator: ", "))); use that version or a later one"
        }
    }
}
