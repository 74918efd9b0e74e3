import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The folders Groundwork writes, as it recognises them on disk.
///
/// - a **project** holds `groundwork.sqlite`;
/// - an **export** holds `manifest.json` with `manifest_version`, `format`, `files` and `root_hash`;
/// - a **results** folder (`groundwork score`) holds `summary.json` with `release.root_hash`,
///   `parameters` and `metrics`, and only the files `score` writes;
/// - a **report** (`groundwork report`) holds `report.json` with `report_version` and `files`.
public enum GroundworkFolderKind: String, Sendable, Codable, CustomStringConvertible {
    case project, export, results, report

    public var description: String {
        switch self {
        case .project: "a Groundwork project"
        case .export: "a Groundwork export (it has a manifest.json)"
        case .results: "a Groundwork results folder (it has a summary.json)"
        case .report: "a Groundwork report (it has a report.json)"
        }
    }

    /// The file that lists a report's files (`groundwork report`).
    public static let reportManifest = "report.json"

    /// The files a results folder holds (`groundwork score`).
    public static let resultsFiles: Set<String> = [
        "scores.csv", "scores.jsonl", "scores.npy", "scores-notes.npy", "scores-index.json", "summary.json",
        "summary.svg", "shard.jsonl", "answers-judged.jsonl",
    ]
    /// The database file that marks a project folder.
    public static let projectMarker = "groundwork.sqlite"

    /// What `folder` is, if Groundwork wrote it; nil for anything else (or nothing).
    public static func recognise(_ folder: String) -> GroundworkFolderKind? {
        guard FileIO.kind(folder).isDirectory else { return nil }
        if FileIO.kind(folder + "/" + projectMarker).exists { return .project }
        if let manifest = jsonObject(folder + "/manifest.json"),
            manifest["manifest_version"] != nil, manifest["format"]?.stringValue != nil,
            manifest["files"]?.arrayValue != nil, manifest["root_hash"]?.stringValue != nil
        {
            return .export
        }
        if let summary = jsonObject(folder + "/summary.json"), summary["release"]?["root_hash"]?.stringValue != nil,
            summary["parameters"] != nil, summary["metrics"]?.arrayValue != nil
        {
            return .results
        }
        if let manifest = jsonObject(folder + "/" + reportManifest), manifest["report_version"] != nil,
            manifest["files"]?.arrayValue != nil
        {
            return .report
        }
        return nil
    }

    /// The files Groundwork wrote into a folder of this kind (paths relative to it), or nil when it
    /// cannot tell (a project).
    static func ownFiles(_ folder: String, kind: GroundworkFolderKind) -> Set<String>? {
        switch kind {
        case .project: return nil
        case .results: return resultsFiles
        case .report:
            guard let files = jsonObject(folder + "/" + reportManifest)?["files"]?.arrayValue else { return nil }
            var paths: Set<String> = [reportManifest]
            for file in files {
                guard let path = file["path"]?.stringValue else { return nil }
                paths.insert(path)
            }
            return paths
        case .export:
            guard let files = jsonObject(folder + "/manifest.json")?["files"]?.arrayValue else { return nil }
            var paths: Set<String> = ["manifest.json"]
            for file in files {
                guard let path = file["path"]?.stringValue else { return nil }
                paths.insert(path)
            }
            return paths
        }
    }

    private static func jsonObject(_ path: String) -> JSONValue? {
        guard FileIO.kind(path).isRegular, let bytes = try? FileIO.readAll(path, limit: 1 << 30),
            let value = try? JSONValue.parse(bytes), value.objectValue != nil
        else { return nil }
        return value
    }
}

/// Why a command refuses to write a folder.
public struct OutputFolderError: Error, Sendable, CustomStringConvertible {
    /// The folder asked for (absolute).
    public var path: String
    /// What is wrong, for a user.
    public var reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(path): \(reason)" }
}

/// The one rule for every command that writes a folder (export, score, demo): it never writes into,
/// over, or around a project or another Groundwork output, and `--force` replaces only a folder that
/// Groundwork wrote, of the same kind, holding nothing Groundwork did not write.
public enum OutputGuard {
    /// Checks `out` before a command writes a folder of `kind` there; returns its absolute path.
    ///
    /// Refused: a path that is, contains or lies inside a project (any folder holding
    /// `groundwork.sqlite`, the project's `objects/` included) or `project` (the command's own);
    /// a path inside an export or results folder; an existing file; a non-empty folder without
    /// `force`; with `force`, a folder that is not a Groundwork output of `kind`, or that holds any
    /// file its manifest does not list. Symbolic links are resolved first.
    public static func check(
        _ out: String, writing kind: GroundworkFolderKind, force: Bool, project: String? = nil
    ) throws(OutputFolderError) -> String {
        let absolute = FileIO.absolute(out)
        let resolved = try checkPlacement(absolute, project: project)
        func refuse(_ reason: String) -> OutputFolderError { OutputFolderError(path: absolute, reason: reason) }

        // 3. What is there already.
        let existing = FileIO.kind(resolved)
        guard existing.exists else { return resolved }
        guard existing.isDirectory else { throw refuse("this exists and is not a folder") }
        let contents: [String]
        do { contents = try FileIO.listDirectory(resolved) } catch { throw refuse("cannot list it: \(error.reason)") }
        if contents.isEmpty { return resolved }
        if let found = GroundworkFolderKind.recognise(resolved), found != kind {
            throw refuse("this is \(found), not \(kindName(kind)): choose another folder (nothing was changed)")
        }
        guard force else {
            throw refuse(
                "this folder is not empty: choose an empty or new folder, or pass --force to replace \(kindName(kind)) that Groundwork wrote"
            )
        }
        guard let found = GroundworkFolderKind.recognise(resolved), found == kind else {
            throw refuse(
                "--force replaces only \(kindName(kind)) that Groundwork wrote, and this folder is not one (nothing was changed)")
        }
        // Every file in it must be one Groundwork wrote: --force never deletes anything else.
        guard let own = GroundworkFolderKind.ownFiles(resolved, kind: found) else {
            throw refuse("--force: cannot tell which files Groundwork wrote here (nothing was changed)")
        }
        var foreign: [String] = []
        FileIO.walk(resolved) { relative, isRegular in
            if !isRegular || !own.contains(relative) { foreign.append(relative) }
        }
        if !foreign.isEmpty {
            let shown = foreign.sorted().prefix(5).joined(separator: ", ")
            throw refuse(
                "--force replaces only what Groundwork wrote, and this folder also holds \(foreign.count) other item(s) (\(shown)\(foreign.count > 5 ? ", …" : "")): move them away first (nothing was changed)"
            )
        }
        return resolved
    }

    /// The placement rules alone: `absolute` is not, and does not lie inside, a project, an export
    /// or a results folder, and does not hold `project`. Returns the path with links resolved.
    public static func checkPlacement(_ absolute: String, project: String?) throws(OutputFolderError) -> String {
        let resolved = FileIO.resolved(absolute)
        func refuse(_ reason: String) -> OutputFolderError { OutputFolderError(path: absolute, reason: reason) }

        // 1. The folder itself or one of its ancestors is a project, an export or a results folder.
        var folder = resolved
        var isSelf = true
        while true {
            if let found = GroundworkFolderKind.recognise(folder) {
                if found == .project {
                    throw refuse(
                        isSelf
                            ? "this is a Groundwork project: write outputs outside the project folder"
                            : "this lies inside the Groundwork project at \(folder): write outputs outside the project folder")
                }
                if !isSelf {
                    throw refuse("this lies inside \(found) at \(folder): choose a folder outside it")
                }
            }
            let parent = (folder as NSString).deletingLastPathComponent
            if parent == folder || parent.isEmpty { break }
            folder = parent
            isSelf = false
        }
        // 2. The folder holds the command's own project.
        if let project {
            let root = FileIO.resolved(FileIO.absolute(project))
            if root == resolved || root.hasPrefix(resolved == "/" ? "/" : resolved + "/") {
                throw refuse("this folder holds the Groundwork project at \(root): choose a folder outside it")
            }
        }
        return resolved
    }

    private static func kindName(_ kind: GroundworkFolderKind) -> String {
        switch kind {
        case .project: "a project"
        case .export: "an export"
        case .results: "a results folder"
        case .report: "a report"
        }
    }
}

/// A folder written in a hidden staging sibling of its target and published by one rename, so that
/// a failure or a kill never leaves a half-written target. The staging folder holds a marker file
/// naming the process that writes it, so that a leftover of a killed run is recognised (its process
/// is gone) and removed by ``StagedFolder/removeLeftovers(in:)`` — and nothing else ever is.
public final class StagedFolder: @unchecked Sendable {
    /// The staging folder being written.
    public let root: String
    /// The target it is published to (absolute).
    public let target: String
    /// Leftovers of killed runs that were removed beside the target when this one started.
    public let removedLeftovers: [String]

    /// The prefix of every staging folder's name.
    public static let prefix = ".groundwork-"
    /// The marker file inside a staging folder: the writing process's id.
    public static let marker = ".groundwork-staging"

    /// Checks `target` with ``OutputGuard`` and creates its staging sibling, removing leftovers of
    /// killed runs found beside it.
    public init(target: String, kind: GroundworkFolderKind, force: Bool, project: String?) throws {
        let absolute = try OutputGuard.check(target, writing: kind, force: force, project: project)
        self.target = absolute
        let parent = (absolute as NSString).deletingLastPathComponent
        let name = (absolute as NSString).lastPathComponent
        try FileIO.makeDirectories(parent)
        removedLeftovers = Self.removeLeftovers(in: parent)
        root = "\(parent)/\(Self.prefix)\(kind.rawValue)-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileIO.makeDirectories(root)
        try Array("\(getpid())\n".utf8).withUnsafeBytes { try FileIO.writeNew("\(root)/\(Self.marker)", bytes: $0) }
    }

    /// Moves the finished folder to the target: one rename (an existing target, already checked to
    /// be a Groundwork output of this kind, is first moved aside and removed after the rename).
    public func publish() throws {
        unlink("\(root)/\(Self.marker)")
        var aside: String?
        if FileIO.kind(target).exists {
            let moved = root + "-previous"
            guard rename(target, moved) == 0 else { throw FileIOError(path: target, operation: "replace", code: errno) }
            aside = moved
        }
        guard rename(root, target) == 0 else {
            let code = errno
            if let aside { _ = rename(aside, target) }
            throw FileIOError(path: target, operation: "publish the folder to", code: code)
        }
        if let aside { try? FileManager.default.removeItem(atPath: aside) }
    }

    /// Removes the staging folder (after a failure).
    public func discard() { try? FileManager.default.removeItem(atPath: root) }

    /// The staging folders of killed runs in `folder`: named `.groundwork-<kind>-<name>-<pid>-<n>`
    /// (or that with `-previous`: a replaced target moved aside) by a process that is gone, and
    /// holding the marker (or, moved aside, recognised as a Groundwork output).
    public static func leftovers(in folder: String) -> [String] {
        guard let names = try? FileIO.listDirectory(folder) else { return [] }
        var found: [String] = []
        for name in names.sorted() where name.hasPrefix(prefix) && name != marker {
            let path = "\(folder)/\(name)"
            guard FileIO.kind(path).isDirectory else { continue }
            var parts = name.split(separator: "-", omittingEmptySubsequences: false)
            let movedAside = parts.last == "previous"
            if movedAside { parts.removeLast() }
            guard parts.count >= 5, UInt32(parts[parts.count - 1]) != nil, let pid = Int32(parts[parts.count - 2]),
                pid > 0, kill(pid, 0) != 0, errno == ESRCH
            else { continue }
            if movedAside {
                if let kind = GroundworkFolderKind.recognise(path), kind != .project { found.append(path) }
            } else if let bytes = try? FileIO.readAll("\(path)/\(marker)", limit: 64) {
                if Int32(String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) == pid {
                    found.append(path)
                }
            } else if name.hasPrefix(prefix + "export-"), !FileIO.kind("\(path)/\(marker)").exists,
                GroundworkFolderKind.recognise(path) == nil
            {
                // An export staging folder of Groundwork before the marker existed.
                found.append(path)
            }
        }
        return found
    }

    /// Removes the leftovers of killed runs in `folder`; returns what it removed.
    @discardableResult
    public static func removeLeftovers(in folder: String) -> [String] {
        leftovers(in: folder).filter { (try? FileManager.default.removeItem(atPath: $0)) != nil }
    }
}

extension FileIO {
    /// The path with every symbolic link of its longest existing prefix resolved (the rest kept as
    /// given), so that two spellings of one folder compare equal.
    public static func resolved(_ absolute: String) -> String {
        var existing = absolute
        var rest: [String] = []
        while !existing.isEmpty && existing != "/" {
            if let real = realpath(existing, nil) {
                defer { free(real) }
                let base = String(cString: real)
                return rest.isEmpty ? base : (base == "/" ? "" : base) + "/" + rest.reversed().joined(separator: "/")
            }
            rest.append((existing as NSString).lastPathComponent)
            existing = (existing as NSString).deletingLastPathComponent
        }
        return absolute
    }

    /// The names in a folder (not `.` and `..`), read byte-exact and shown as UTF-8 (invalid bytes
    /// replaced).
    public static func listDirectory(_ path: String) throws(FileIOError) -> [String] {
        guard let dir = opendir(path) else { throw FileIOError(path: path, operation: "list", code: errno) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw -> String in
                let bytes = raw.prefix { $0 != 0 }
                return String(decoding: bytes, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Visits every entry under `root` (not following symbolic links), depth first, with its path
    /// relative to `root` and whether it is a regular file; folders are visited, not reported.
    public static func walk(_ root: String, _ visit: (String, Bool) -> Void) {
        func go(_ relative: String) {
            let full = relative.isEmpty ? root : root + "/" + relative
            guard let names = try? listDirectory(full) else { return }
            for name in names.sorted() {
                let child = relative.isEmpty ? name : relative + "/" + name
                var st = stat()
                guard lstat(root + "/" + child, &st) == 0 else {
                    visit(child, false)
                    continue
                }
                switch st.st_mode & S_IFMT {
                case S_IFDIR: go(child)
                case S_IFREG: visit(child, true)
                default: visit(child, false)
                }
            }
        }
        go("")
    }
}
