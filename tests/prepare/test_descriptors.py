"""Columns that say who a customer is: recognised, profiled, clustered only on request."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from _realistic import attrition_table, mall_table, telco_table
from custseg.exceptions import SchemaError
from custseg.prepare import infer_schema
from custseg.prepare.descriptors import (
    descriptor_reason,
    find_descriptor,
    protected_characteristic,
)
from custseg.sources import read_table, sample_path


@pytest.mark.parametrize(
    ("name", "kind", "protected"),
    [
        ("Customer_Age", "age", "age"),
        ("age", "age", "age"),
        ("AgeGroup", "age", "age"),
        ("Year_Birth", "birth year", "age"),
        ("Gender", "gender", "sex/gender"),
        ("SEX", "gender", "sex/gender"),
        ("Marital_Status", "marital status", "marital status"),
        ("Partner", "partner", "marital status"),
        ("Dependent_count", "dependents", None),
        ("Kidhome", "dependents", None),
        ("Teenhome", "dependents", None),
        ("Education_Level", "education", None),
        ("Geography", "region", None),
        ("postcode", "region", None),
        ("Country", "region", None),
        ("SeniorCitizen", "senior flag", "age"),
        ("Nationality", "nationality", "nationality"),
        ("native-country", "nationality", "nationality"),
        ("country_of_birth", "nationality", "nationality"),
        ("Religion", "religion", "religion"),
        ("Ethnicity", "race/ethnicity", "race/ethnicity"),
        ("Disability", "disability", "disability"),
        ("preferred language", "language", None),
        ("Job", "occupation", None),
    ],
)
def test_descriptor_names(name: str, kind: str, protected: str | None) -> None:
    found = find_descriptor(name)
    assert found is not None and found.kind == kind
    assert protected_characteristic(name) == protected


@pytest.mark.parametrize(
    "name",
    [
        # Relationship length and activity are behaviour, whatever they share with a person.
        "tenure",
        "TENURE",
        "Months_on_book",
        "Total_Trans_Ct",
        "Total_Relationship_Count",
        "Customer_Since",
        "Seniority",
        # About something else than the person, or an amount.
        "AccountAge",
        "car_age",
        "store_region",
        "merchant_country",
        "MntChildrenClothes",
        "region_spend",
        "Percentage",
        "Mortgage",
        "Stage",
        "Usage",
        "CreditScore",
        "BALANCE",
    ],
)
def test_behaviour_names_are_not_descriptors(name: str) -> None:
    assert find_descriptor(name) is None
    assert protected_characteristic(name) is None


def test_income_is_a_descriptor_as_a_band_not_as_an_amount() -> None:
    bands = pd.Series(["Less than $40K", "$40K - $60K", "$80K - $120K", "$120K +", "Unknown"])
    assert descriptor_reason("Income_Category", bands) == "income band"
    assert descriptor_reason("income_band", pd.Series([1, 2, 3, 4])) == "income band"
    # Purchasing power as an amount: what a mall's income/spending segmentation uses.
    assert descriptor_reason("Income", pd.Series([58138.0, 46344.0, 71613.0])) is None
    assert descriptor_reason("Annual Income (k$)", pd.Series([15, 16, 17])) is None


def test_value_patterns_find_unnamed_descriptors() -> None:
    sex = pd.Series(["M", "F", "F", "M", None, "U"])
    assert descriptor_reason("S1", sex) == "gender: levels F, M, U"
    assert protected_characteristic("S1", sex) == "sex/gender"
    assert descriptor_reason("col_7", pd.Series(["Female", "Male"] * 5)) is not None
    # Sizes S/M/L are not genders.
    assert descriptor_reason("size", pd.Series(["S", "M", "L", "M"])) is None
    bands = pd.Series(["$20K-$40K", "$40K to $60K", "Over $100K", "$60K - $100K"])
    assert descriptor_reason("bracket_7", bands) == "income band: levels such as '$20K-$40K'"
    years = pd.Series([1957, 1954, 1965, 1984, 1981, 1996, None])
    assert descriptor_reason("Year_of_B", years) == "birth year: values 1954..1996"
    assert protected_characteristic("yr", years) == "age"
    # Years of account opening are no birth years; a year-less name is not read for years.
    assert descriptor_reason("open_year", pd.Series([2011, 2015, 2019, 2023])) is None
    assert descriptor_reason("code", years) is None


def test_attrition_demographics_are_descriptors_behaviour_is_not() -> None:
    frame, _ = attrition_table(600)
    schema = infer_schema(frame)
    demographics = [
        "Customer_Age",
        "Gender",
        "Dependent_count",
        "Education_Level",
        "Marital_Status",
        "Income_Category",
    ]
    assert schema.descriptors == demographics
    assert not set(demographics) & set(schema.features)
    assert {"Months_on_book", "Total_Trans_Ct", "Credit_Limit"} <= set(schema.numeric)
    assert "Card_Category" in schema.categorical
    assert schema.protected == {
        "Customer_Age": "age",
        "Gender": "sex/gender",
        "Marital_Status": "marital status",
    }
    reason = schema.column("Gender").reason
    assert reason.startswith("describes who the customer is (gender;")
    assert "not clustered on; --cluster-descriptors" in reason


def test_telco_demographics_are_descriptors_tenure_is_behaviour() -> None:
    frame, _ = telco_table(400)
    schema = infer_schema(frame)
    assert schema.descriptors == ["gender", "SeniorCitizen", "Partner", "Dependents"]
    assert schema.protected["SeniorCitizen"] == "age"
    assert "tenure" in schema.numeric


def test_cluster_descriptors_clusters_on_them_and_keeps_them_marked() -> None:
    frame, _ = mall_table()
    default = infer_schema(frame)
    assert default.features == ["Annual Income (k$)", "Spending Score (1-100)"]
    assert default.descriptors == ["Gender", "Age"]
    clustered = infer_schema(frame, cluster_descriptors=True)
    assert clustered.features == ["Gender", "Age", "Annual Income (k$)", "Spending Score (1-100)"]
    age = clustered.column("Age")
    assert age.role == "numeric" and age.describes == "age" and age.protected == "age"
    assert age.reason.startswith("descriptor (age; protected characteristic: age), clustered on")
    assert clustered.all_descriptors == ["Gender", "Age"] and clustered.descriptors == []


def test_features_naming_a_descriptor_clusters_it_others_stay_profiled() -> None:
    frame, _ = mall_table()
    schema = infer_schema(frame, features=["Age", "Spending Score (1-100)"])
    assert schema.features == ["Age", "Spending Score (1-100)"]
    assert "clustered on request" in schema.column("Age").reason
    assert schema.column("Gender").role == "descriptor"
    assert schema.column("Annual Income (k$)").role == "ignored"


def test_listed_descriptors_are_profiled_and_unknown_ones_refused() -> None:
    frame, _ = mall_table()
    schema = infer_schema(frame, descriptors=["Annual Income*"])
    info = schema.column("Annual Income (k$)")
    assert info.role == "descriptor" and info.describes == "listed as a descriptor"
    assert schema.features == ["Spending Score (1-100)"]
    with pytest.raises(SchemaError, match="descriptors: column 'Agee' is not in the table"):
        infer_schema(frame, descriptors=["Agee"])


def test_cc_general_has_no_descriptor() -> None:
    schema = infer_schema(read_table(sample_path()))
    assert schema.all_descriptors == [] and schema.protected == {}
    assert "TENURE" in schema.numeric and len(schema.features) == 17


def test_outcomes_and_identifiers_keep_their_roles() -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "customer_id": np.arange(100),
            "senior_churned": rng.integers(0, 2, 100),
            "spend": rng.random(100),
        }
    )
    schema = infer_schema(frame)
    assert schema.id_column == "customer_id"
    assert schema.column("senior_churned").role == "outcome"
