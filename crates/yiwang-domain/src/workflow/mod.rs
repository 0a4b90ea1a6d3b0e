//! Workflow definitions as data (DIGIT's BusinessService/State/Action shape, plus pausable
//! clocks, limited actions such as one correction round, and parallel splits), their
//! validation, the built-in 承诺件 / 即办件 templates, the resolution order, and the pure
//! transition function.

pub mod builtin;
pub mod engine;
pub mod error;
pub mod model;
pub mod resolve;
pub mod validate;

pub use builtin::{builtin, immediate, promised, promised_parallel};
pub use engine::{CaseState, Event, TaskState, TaskStatus, Transition, apply, available_actions};
pub use error::WorkflowError;
pub use model::{
    ActionDef, CaseRole, ClockMode, DepartmentSelector, ParallelSplit, StateDef, TaskDef,
    TaskVerdict, WorkflowDefinition, parse_task_action, task_action_key,
};
pub use resolve::{Binding, BindingScope, CaseSubject, ResolvedFrom, resolve};
pub use validate::{is_valid_key, load, validate};
