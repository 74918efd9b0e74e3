/// The Groundwork release this build belongs to.
public enum GroundworkVersion {
    /// Semantic version of the tool, recorded in every import batch, release and export.
    public static let current = "0.1.0"
}
