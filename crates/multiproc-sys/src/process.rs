//! Process control: the one audited `fork`, `waitpid`, pidfds and signals.
