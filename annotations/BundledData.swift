import Foundation

/// The data that ships with Groundwork, from the repository's `annotations/` folder.
public enum BundledData {
    /// The starter label taxonomy (`annotations/taxonomy/vgmed-slake.yaml`).
    public static var taxonomy: URL? {
        Bundle.module.url(forResource: "taxonomy/vgmed-slake", withExtension: "yaml")
            ?? Bundle.module.resourceURL?.appendingPathComponent("taxonomy/vgmed-slake.yaml")
    }

    /// A bundled question template file by name (`localization`, `attribute`).
    public static func template(_ name: String) -> URL? {
        Bundle.module.resourceURL?.appendingPathComponent("templates/\(name).yaml")
    }
}
