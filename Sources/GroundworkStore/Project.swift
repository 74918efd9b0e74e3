import Foundation
import GRDB
import GroundworkCore

/// A Groundwork project: a folder with one SQLite database (`groundwork.sqlite`) and a
/// content-addressed store of the imported files (`objects/`).
///
/// Open one with ``Project/create(at:)`` or ``Project/open(at:)``, or find the one that holds
/// the working directory with ``Project/locate(from:)``, as git finds its repository.
public final class Project: Sendable {
    /// The database file's name inside a project folder.
    public static let databaseName = "groundwork.sqlite"
    /// The object store's folder name inside a project folder.
    public static let objectsName = "objects"

    /// The project folder (absolute).
    public let root: String
    /// The database: WAL journal, foreign keys on, migrated to the current schema.
    public let database: DatabasePool
    /// The content-addressed file store.
    public let objects: ObjectStore

    private init(root: String, database: DatabasePool) {
        self.root = root
        self.database = database
        self.objects = ObjectStore(root: (root as NSString).appendingPathComponent(Self.objectsName))
    }

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
        return try openDatabase(root: root)
    }

    /// Opens the project in `folder`.
    public static func open(at folder: String) throws(ProjectError) -> Project {
        let root = FileIO.absolute(folder)
        let dbPath = (root as NSString).appendingPathComponent(databaseName)
        guard FileIO.kind(dbPath).isRegular else { throw .notFound(root) }
        return try openDatabase(root: root)
    }

    /// Finds the project whose folder is `start` or one of its ancestors.
    public static func locate(from start: String = FileManager.default.currentDirectoryPath) throws(ProjectError) -> Project {
        var folder = FileIO.absolute(start)
        while true {
            if FileIO.kind((folder as NSString).appendingPathComponent(databaseName)).isRegular {
                return try open(at: folder)
            }
            let parent = (folder as NSString).deletingLastPathComponent
            if parent == folder || parent.isEmpty { throw .notFound(FileIO.absolute(start)) }
            folder = parent
        }
    }

    private static func openDatabase(root: String) throws(ProjectError) -> Project {
        var config = Configuration()
        config.foreignKeysEnabled = true
        config.busyMode = .timeout(10)
        config.label = "groundwork"
        let dbPath = (root as NSString).appendingPathComponent(databaseName)
        do {
            let pool = try DatabasePool(path: dbPath, configuration: config)
            try Schema.migrator.migrate(pool)
            let project = Project(root: root, database: pool)
            try FileIO.makeDirectories(project.objects.root)
            return project
        } catch let error as FileIOError {
            throw .io(error.description)
        } catch {
            throw .database("\(dbPath): \(error)")
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
        }
    }
}
