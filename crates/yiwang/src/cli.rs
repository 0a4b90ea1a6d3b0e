use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "yiwang",
    version,
    about = "一网 yiwang: integrated online government services"
)]
pub struct Cli {
    /// Configuration file (TOML); see `yiwang default-config`.
    #[arg(long, global = true, env = "YIWANG_CONFIG")]
    pub config: Option<PathBuf>,
    /// Database URL: sqlite://path or postgres://…; overrides the configuration.
    #[arg(long, global = true, env = "YIWANG_DATABASE_URL")]
    pub database_url: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the web server (applies migrations first).
    Serve(ServeArgs),
    /// Apply database migrations and exit.
    Migrate,
    /// Import a catalog file as drafts: XLSX, JSON, or items.csv + materials.csv.
    Import(ImportArgs),
    /// Export the published catalog.
    Export(ExportArgs),
    /// Administrative regions.
    Regions {
        #[command(subcommand)]
        command: RegionsCommand,
    },
    /// Departments.
    Departments {
        #[command(subcommand)]
        command: DepartmentsCommand,
    },
    /// Staff accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Catalog reports and publishing.
    Catalog {
        #[command(subcommand)]
        command: CatalogCommand,
    },
    /// The official working calendar: holidays, adjusted working days, due dates.
    Calendar {
        #[command(subcommand)]
        command: crate::cmd_calendar::CalendarCommand,
    },
    /// Registers (基础库): population, legal entities, e-licences.
    Registers {
        #[command(subcommand)]
        command: crate::cmd_registers::RegistersCommand,
    },
    /// The tamper-evident audit log.
    Audit {
        #[command(subcommand)]
        command: crate::cmd_audit::AuditCommand,
    },
    /// The signed exchange between departments: its message log.
    Exchange {
        #[command(subcommand)]
        command: crate::cmd_exchange::ExchangeCommand,
    },
    /// Keys that encrypt personal data: generate, rotate, status.
    Keys {
        #[command(subcommand)]
        command: crate::cmd_keys::KeysCommand,
    },
    /// The search index: rebuild, evaluate relevance, try a query.
    Search {
        #[command(subcommand)]
        command: crate::cmd_search::SearchCommand,
    },
    /// Load the demo data set (Tianjin regions, 津南区 departments and catalog) and demo accounts.
    Demo,
    /// Print a commented default configuration file.
    DefaultConfig,
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on, e.g. 127.0.0.1:8080.
    #[arg(long, env = "YIWANG_LISTEN")]
    pub listen: Option<String>,
    /// Load the demo data set and demo accounts before serving.
    #[arg(long)]
    pub demo: bool,
}

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// One .xlsx or .json file, or items.csv followed by materials.csv.
    #[arg(required = true, num_args = 1..=2)]
    pub files: Vec<PathBuf>,
    /// Publish the imported drafts right away.
    #[arg(long)]
    pub publish: bool,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum ExportFormat {
    Csv,
    Xlsx,
    Json,
}

#[derive(Args, Debug)]
pub struct ExportArgs {
    #[arg(long, value_enum, default_value = "xlsx")]
    pub format: ExportFormat,
    /// Output file; for CSV a directory that receives items.csv and materials.csv.
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Subcommand, Debug)]
pub enum RegionsCommand {
    /// Load the five-level dataset from DIR (provinces/cities/areas/streets/villages, .csv or .csv.gz).
    Import { dir: PathBuf },
}

#[derive(Subcommand, Debug)]
pub enum DepartmentsCommand {
    /// Load departments from a CSV file with columns 名称,统一社会信用代码,行政区划代码.
    Import { file: PathBuf },
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Create a staff account. The password is read from the environment variable named by
    /// --password-env (default YIWANG_PASSWORD), or from the first line of standard input.
    Create {
        #[arg(long)]
        username: String,
        #[arg(long)]
        display_name: String,
        /// platform_admin, region_admin, department_admin, catalog_admin, auditor (platform-wide
        /// without --region/--department), clerk, reviewer or approver.
        #[arg(long)]
        role: String,
        /// Limit the role to this region's subtree.
        #[arg(long)]
        region: Option<String>,
        /// Limit the role to this department (credit code).
        #[arg(long)]
        department: Option<String>,
        #[arg(long, default_value = "YIWANG_PASSWORD")]
        password_env: String,
        /// Mobile number (stored encrypted; needs data keys, see `yiwang keys`).
        #[arg(long)]
        phone: Option<String>,
        /// Resident ID number, 18 characters (stored encrypted; needs data keys).
        #[arg(long)]
        resident_id: Option<String>,
    },
    /// Lift the lock of an account locked after too many failed sign-ins.
    Unlock { username: String },
    /// Remove an account's TOTP key (lost phone): its sessions end and the next sign-in sets up
    /// a new key.
    ResetTotp { username: String },
}

#[derive(Subcommand, Debug)]
pub enum CatalogCommand {
    /// 四级四同: implementations of one standard item that differ across regions, and scores.
    Drift {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Publish every draft.
    Publish,
}
