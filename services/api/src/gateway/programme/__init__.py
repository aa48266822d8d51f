"""The programme: how often the units can be inspected (capacity and frequency), and which thematic
inspections and research to take on (topics scored against the criteria of the 2020 consultation letter)."""
