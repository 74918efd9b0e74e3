// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "Groundwork",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "groundwork", targets: ["groundwork"]),
        .library(name: "GroundworkImaging", targets: ["GroundworkImaging"]),
        .library(name: "GroundworkStore", targets: ["GroundworkStore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        // The review app's HTTP server (`groundwork serve`): async/await on SwiftNIO, no default traits.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
    ],
    targets: [
        // System libraries: libpng and libjpeg-turbo from Debian (`libpng-dev`, `libjpeg-dev`).
        .systemLibrary(
            name: "CPNG",
            pkgConfig: "libpng",
            providers: [.apt(["libpng-dev"])]
        ),
        .systemLibrary(
            name: "CJPEG",
            pkgConfig: "libjpeg",
            providers: [.apt(["libjpeg-dev"])]
        ),
        // The C decoders and encoders that own `setjmp`, so no `longjmp` ever crosses a Swift frame.
        .target(
            name: "CImageCodecs",
            dependencies: ["CPNG", "CJPEG"]
        ),
        // The extern "C" face over DCMTK (Debian's `libdcmtk-dev`). DCMTK's pkg-config file is
        // broken on Debian 12, so its libraries are linked by name.
        .target(
            name: "CDICOM",
            linkerSettings: [
                .linkedLibrary("dcmjpls"), .linkedLibrary("dcmjpeg"), .linkedLibrary("ijg8"),
                .linkedLibrary("ijg12"), .linkedLibrary("ijg16"), .linkedLibrary("dcmimgle"),
                .linkedLibrary("dcmdata"), .linkedLibrary("oflog"), .linkedLibrary("ofstd"), .linkedLibrary("openjp2"),
            ]
        ),
        // Shared plumbing: located errors, CSV reading, terminal progress.
        .target(name: "GroundworkCore"),
        // Format sniffing, decoding to pixel buffers, EXIF orientation, encoding.
        .target(
            name: "GroundworkImaging",
            dependencies: ["CImageCodecs", "CDICOM", "GroundworkCore"],
            exclude: ["DICOM.md"]
        ),
        // Geometry in Groundwork's one convention: boxes, polygons, RLE masks, and every named
        // conversion in and out. Pure Swift, no dependencies (the metrics read it too).
        .target(name: "GroundworkGeometry"),
        // The project: folder, SQLite database, content-addressed objects, import batches.
        .target(
            name: "GroundworkStore",
            dependencies: [
                "GroundworkCore",
                "GroundworkImaging",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // Expert regions and VQA items: one reader per annotation format behind one protocol,
        // the transactional importer, validation, agreement and consensus, question templates.
        .target(
            name: "GroundworkAnnotations",
            dependencies: [
                "GroundworkCore",
                "GroundworkGeometry",
                "GroundworkImaging",
                "GroundworkStore",
                "GroundworkBundledData",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        // The data that ships with Groundwork (annotations/: taxonomy, question templates, samples),
        // bundled as resources so the installed tool finds it.
        .target(
            name: "GroundworkBundledData",
            path: "annotations",
            exclude: ["README.md"],
            sources: ["BundledData.swift"],
            resources: [.copy("taxonomy"), .copy("templates")]
        ),
        // Splits, leakage checks, frozen releases, manifests, one writer per export format, verify.
        .target(
            name: "GroundworkReleases",
            dependencies: [
                "GroundworkCore",
                "GroundworkGeometry",
                "GroundworkImaging",
                "GroundworkStore",
                "GroundworkAnnotations",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // Grounding metrics: attention submissions, preprocessing maps, one type per metric,
        // aggregation and comparison. Reads release folders, never the project database.
        .target(
            name: "GroundworkMetrics",
            dependencies: ["GroundworkCore", "GroundworkGeometry", "GroundworkImaging"],
            exclude: ["README.md"]
        ),
        // The static report (`groundwork report`): a folder with index.html that opens from disk,
        // the models' curves and a gallery of questions with their attention maps.
        .target(
            name: "GroundworkReport",
            dependencies: [
                "GroundworkCore", "GroundworkGeometry", "GroundworkImaging", "GroundworkMetrics",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            exclude: ["README.md"]
        ),
        // The bundled sample data (synthetic phantoms) and the end-to-end demo pipeline.
        .target(
            name: "GroundworkDemo",
            dependencies: [
                "GroundworkImaging", "GroundworkStore", "GroundworkCore", "GroundworkAnnotations", "GroundworkReleases",
                "GroundworkMetrics",
            ]
        ),
        // The local review app behind `groundwork serve`: routes, handlers, the access token and the
        // pages (HTML, CSS and JavaScript served from memory, nothing from a CDN).
        .target(
            name: "GroundworkServer",
            dependencies: [
                "GroundworkCore", "GroundworkStore", "GroundworkAnnotations", "GroundworkImaging", "GroundworkGeometry",
                "GroundworkReleases",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["README.md"]
        ),
        // The command-line tool: a thin layer, one command a file.
        .executableTarget(
            name: "groundwork",
            dependencies: [
                "GroundworkCore",
                "GroundworkImaging",
                "GroundworkStore",
                "GroundworkAnnotations",
                "GroundworkBundledData",
                "GroundworkDemo",
                "GroundworkReleases",
                "GroundworkMetrics",
                "GroundworkServer",
                "GroundworkReport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Scratch folders and other helpers shared by the test targets (not part of any product).
        .target(
            name: "GroundworkTestSupport",
            path: "Tests/GroundworkTestSupport"
        ),
        .testTarget(
            name: "GroundworkCoreTests",
            dependencies: ["GroundworkCore", "GroundworkTestSupport"]
        ),
        .testTarget(
            name: "GroundworkGeometryTests",
            dependencies: ["GroundworkGeometry", "GroundworkCore"]
        ),
        .testTarget(
            name: "GroundworkImagingTests",
            dependencies: ["GroundworkImaging", "GroundworkCore", "GroundworkTestSupport"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "GroundworkStoreTests",
            dependencies: ["GroundworkTestSupport", "GroundworkStore", "GroundworkImaging", "GroundworkCore"]
        ),
        .testTarget(
            name: "GroundworkAnnotationsTests",
            dependencies: [
                "GroundworkAnnotations", "GroundworkStore", "GroundworkImaging", "GroundworkGeometry", "GroundworkCore",
                "GroundworkTestSupport",
            ],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "GroundworkReleasesTests",
            dependencies: [
                "GroundworkTestSupport",
                "GroundworkReleases", "GroundworkAnnotations", "GroundworkStore", "GroundworkImaging", "GroundworkCore",
            ]
        ),
        .testTarget(
            name: "GroundworkMetricsTests",
            dependencies: ["GroundworkTestSupport", "GroundworkMetrics", "GroundworkGeometry", "GroundworkCore"]
        ),
        .testTarget(
            name: "GroundworkReportTests",
            dependencies: [
                "GroundworkTestSupport", "GroundworkReport", "GroundworkMetrics", "GroundworkImaging", "GroundworkGeometry",
                "GroundworkCore",
            ]
        ),
        .testTarget(
            name: "GroundworkDICOMTests",
            dependencies: [
                "GroundworkImaging", "GroundworkStore", "GroundworkCore", "CDICOM", "GroundworkAnnotations", "GroundworkGeometry",
            ]
        ),
        .testTarget(
            name: "GroundworkServerTests",
            dependencies: [
                "GroundworkTestSupport", "GroundworkServer", "GroundworkStore", "GroundworkAnnotations", "GroundworkDemo",
                "GroundworkCore",
            ]
        ),
        .testTarget(
            name: "GroundworkCLITests",
            dependencies: ["GroundworkTestSupport", "groundwork", "GroundworkStore", "GroundworkImaging"],
            exclude: ["demo-outputs.sha256"]
        ),
    ],
    cxxLanguageStandard: .cxx17
)
