//! The digital twin: its population, behaviour and dynamics.

mod behaviour;
mod dialing;
mod dynamics;
mod population;
mod world;
