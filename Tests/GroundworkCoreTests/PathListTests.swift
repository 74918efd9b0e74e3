import GroundworkCore
import Testing

@Suite struct PathListTests {
    @Test func keepsOrderDropsLaterDuplicatesAndFindsByPathAndBaseName() {
        var list = PathList([
            "/d/b.png", "/d/a.png", "/d/sub/b.png", "/d/a.png", "/e/ü.png", "/d/b.png", "/d/ab.png", "/d/a",
        ])
        list.removeDuplicates()
        #expect(Array(list) == ["/d/b.png", "/d/a.png", "/d/sub/b.png", "/e/ü.png", "/d/ab.png", "/d/a"])
        let byPath = list.indexByPath()
        #expect(list.positions(of: "/d/a.png", in: byPath) == [1])
        #expect(list.positions(of: "/d/a", in: byPath) == [5])
        #expect(list.positions(of: "/e/ü.png", in: byPath) == [3])
        #expect(list.positions(of: "/d/c.png", in: byPath).isEmpty)
        let byName = list.indexByBaseName()
        #expect(list.positions(of: "b.png", in: byName) == [0, 2])
        #expect(list.positions(of: "ü.png", in: byName) == [3])
        #expect(list.positions(of: "a", in: byName) == [5])
        #expect(list.positions(of: "png", in: byName).isEmpty)
    }

    @Test func pathsAtTheRootOrWithoutAFolderRoundTrip() {
        var list = PathList(["/x.png", "rel.png", "/d/x.png", "rel.png", "/x.png", "/d/e/x.png"])
        list.removeDuplicates()
        #expect(Array(list) == ["/x.png", "rel.png", "/d/x.png", "/d/e/x.png"])
        let byPath = list.indexByPath()
        #expect(list.positions(of: "/x.png", in: byPath) == [0])
        #expect(list.positions(of: "rel.png", in: byPath) == [1])
        #expect(list.positions(of: "/d/e/x.png", in: byPath) == [3])
        #expect(list.positions(of: "/nowhere/x.png", in: byPath).isEmpty)
        #expect(list.positions(of: "x.png", in: list.indexByBaseName()) == [0, 2, 3])
    }

    @Test func manyPathsRoundTrip() {
        let paths = (0..<5000).map { "/data/\($0 % 7)/img\($0 * 7919 % 5000).png" }
        var list = PathList(paths)
        list.removeDuplicates()
        var seen = Set<String>()
        let unique = paths.filter { seen.insert($0).inserted }
        #expect(Array(list) == unique)
        let byPath = list.indexByPath()
        for (position, path) in unique.enumerated().filter({ $0.offset % 97 == 0 }) {
            #expect(list.positions(of: path, in: byPath) == [position])
        }
    }
}
