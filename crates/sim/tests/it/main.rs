//! The digital twin: its population, behaviour and dynamics.

mod behaviour;
mod dynamics;
mod population;
mod world;
