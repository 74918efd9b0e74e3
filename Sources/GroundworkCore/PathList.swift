/// A list of paths kept compactly: each folder once, each path as its folder's number and its
/// name in one byte arena — about the length of the name plus 8 bytes a path, instead of a
/// `String` allocation of the whole path each (an import of millions of files in a few folders
/// keeps its list in a few tens of megabytes). Paths are kept in the order added; lookups by path
/// and by base name go through orders sorted once, on demand.
public struct PathList: RandomAccessCollection, Sendable {
    /// Every folder, once, in the order first seen; `folderNumbers` finds them.
    private var folders: [String] = []
    private var folderNumbers: [String: UInt32] = [:]
    /// Each path's folder (`noFolder` for a path without a `/`).
    private var folderOf: [UInt32] = []
    /// The names' bytes, and the end of each in `names`.
    private var names: [UInt8] = []
    private var ends: [Int] = []

    private static let noFolder = UInt32.max

    public init() {}

    public init(_ paths: some Sequence<String>) {
        for path in paths { append(path) }
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { ends.count }

    public subscript(position: Int) -> String {
        let name = withName(at: position) { String(decoding: $0, as: UTF8.self) }
        let folder = folderOf[position]
        return folder == Self.noFolder ? name : folders[Int(folder)] + "/" + name
    }

    /// Calls `body` with the UTF-8 bytes of the base name of the path at `position`.
    private func withName<R>(at position: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        let start = position == 0 ? 0 : ends[position - 1]
        return try names.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[start..<ends[position]])) }
    }

    /// A path's folder (before its last `/`) and base name (after it); no folder without a `/`.
    private static func split(_ path: String) -> (folder: Substring?, name: Substring) {
        guard let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")) else { return (nil, path[...]) }
        return (path[..<slash], path[path.utf8.index(after: slash)...])
    }

    public mutating func append(_ path: String) {
        let (folder, baseName) = Self.split(path)
        if let folder {
            let key = String(folder)
            if let number = folderNumbers[key] {
                folderOf.append(number)
            } else {
                let number = UInt32(folders.count)
                folders.append(key)
                folderNumbers[key] = number
                folderOf.append(number)
            }
        } else {
            folderOf.append(Self.noFolder)
        }
        var name = String(baseName)
        name.withUTF8 { names.append(contentsOf: $0) }
        ends.append(names.count)
    }

    /// Keeps the first occurrence of every path, in order.
    public mutating func removeDuplicates() {
        let order = sortedOrder(byNameOnly: false)
        var duplicate = [Bool](repeating: false, count: count)
        var found = false
        for index in order.indices.dropFirst() where compare(order[index - 1], order[index], byNameOnly: false) == 0 {
            // The sort is stable, so the later of two equal paths comes second.
            duplicate[order[index]] = true
            found = true
        }
        guard found else { return }
        var kept = PathList()
        for position in indices where !duplicate[position] { kept.append(self[position]) }
        self = kept
    }

    /// -1, 0 or 1 as the path (or name only) at `a` sorts before, with or after the one at `b`:
    /// by folder number, then by name's bytes.
    private func compare(_ a: Int, _ b: Int, byNameOnly: Bool) -> Int {
        if !byNameOnly, folderOf[a] != folderOf[b] { return folderOf[a] < folderOf[b] ? -1 : 1 }
        return withName(at: a) { x in withName(at: b) { y in Self.compare(x, y) } }
    }

    private static func compare(_ x: UnsafeBufferPointer<UInt8>, _ y: UnsafeBufferPointer<UInt8>) -> Int {
        if x.elementsEqual(y) { return 0 }
        return x.lexicographicallyPrecedes(y) ? -1 : 1
    }

    /// The positions sorted (stably) by path (folder number, then name) or by name only.
    private func sortedOrder(byNameOnly: Bool) -> [Int] {
        var order = Array(indices)
        order.sort { a, b in
            let c = compare(a, b, byNameOnly: byNameOnly)
            return c != 0 ? c < 0 : a < b
        }
        return order
    }

    /// A lookup of the paths by path, or by base name.
    public struct Lookup: Sendable {
        fileprivate let order: [Int]
        fileprivate let byName: Bool
    }

    /// A lookup by path (8 bytes a path).
    public func indexByPath() -> Lookup { Lookup(order: sortedOrder(byNameOnly: false), byName: false) }

    /// A lookup by base name (8 bytes a path).
    public func indexByBaseName() -> Lookup { Lookup(order: sortedOrder(byNameOnly: true), byName: true) }

    /// The positions, in order, of the paths (or base names, for a lookup by base name) equal to `key`.
    public func positions(of key: String, in lookup: Lookup) -> [Int] {
        var folder: UInt32?
        var name = key
        if !lookup.byName {
            let parts = Self.split(key)
            if let wanted = parts.folder {
                guard let number = folderNumbers[String(wanted)] else { return [] }
                folder = number
            } else {
                folder = Self.noFolder
            }
            name = String(parts.name)
        }
        return name.withUTF8 { wanted -> [Int] in
            func compare(_ position: Int) -> Int {
                if let folder, folderOf[position] != folder { return folderOf[position] < folder ? -1 : 1 }
                return withName(at: position) { Self.compare($0, wanted) }
            }
            var low = 0
            var high = lookup.order.count
            while low < high {
                let middle = (low + high) / 2
                if compare(lookup.order[middle]) < 0 { low = middle + 1 } else { high = middle }
            }
            var found: [Int] = []
            while low < lookup.order.count, compare(lookup.order[low]) == 0 {
                found.append(lookup.order[low])
                low += 1
            }
            return found
        }
    }
}
