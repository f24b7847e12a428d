"""NCT06904755 as listed (../shared/trial/): the trial and its 14 criteria.

Thresholds are the protocol's; the marker limits are default upper limits of normal
(a lab's own limit entered with a value takes precedence). ``load_trial`` creates
these rows once; after that, admins own them.
"""

from decimal import Decimal as D

TRIAL = {
    "slug": "nct06904755",
    "registry_id": "NCT06904755",
    "title": (
        "Safety and Effectiveness of Mesenchymal Stem Cells in Blood Purification "
        "for the Treatment of Liver Failure"
    ),
    "title_zh_hans": "间充质干细胞血液净化治疗肝衰竭的安全性和有效性",
    "sponsor": "Kebo Zhong",
    "site": "Zhujiang Hospital, Guangzhou, Guangdong, China",
    "status": "RECRUITING",
}

# (code, kind, attestation, English wording, Chinese wording, conditions)
# A condition: (variable, operator, low, high, categories, unit)
# The one site that screens (a membership may be limited to it).
SITE = {
    "code": "01",
    "name": "Zhujiang Hospital, Guangzhou",
    "name_zh_hans": "珠江医院（广州）",
}

CRITERIA = [
    (
        "I1",
        "INCLUSION",
        False,
        "Age range from 18 to 65 years old",
        "年龄18至65岁",
        [("age_years", "BETWEEN", D(18), D(65), "", "years")],
    ),
    (
        "I2",
        "INCLUSION",
        True,
        "Patients with acute liver failure in the early and intermediate stages "
        "caused by various reasons",
        "各种原因所致的早、中期急性肝衰竭患者",
        [("liver_failure_stage", "IN", None, None, "early,intermediate", "")],
    ),
    (
        "I3",
        "INCLUSION",
        False,
        "Total bilirubin (TBil) ≥ 171 μmol/L or an increase of ≥ 17.1 μmol/L per day",
        "总胆红素（TBil）≥171 μmol/L或每日上升≥17.1 μmol/L",
        [
            ("tbil_umol_l", "GTE", D(171), None, "", "umol/L"),
            ("tbil_rise_per_day", "GTE", D("17.1"), None, "", "umol/L/day"),
        ],
    ),
    (
        "I4",
        "INCLUSION",
        False,
        "Prothrombin activity (PTA) between 20% and 40% (or INR between 1.5 and 2.6)",
        "凝血酶原活动度（PTA）20%～40%（或INR 1.5～2.6）",
        [
            ("pta_percent", "BETWEEN", D(20), D(40), "", "%"),
            ("inr", "BETWEEN", D("1.5"), D("2.6"), "", ""),
        ],
    ),
    (
        "I5",
        "INCLUSION",
        False,
        "No hepatic encephalopathy or encephalopathy below grade II "
        "(including grade II)",
        "无肝性脑病或肝性脑病II级以下（含II级）",
        [("he_grade", "LTE", D(2), None, "", "West Haven grade")],
    ),
    (
        "I6",
        "INCLUSION",
        False,
        "Elevated inflammatory markers (IL-6 / TNF-α / CRP, etc.)",
        "炎症指标升高（IL-6／TNF-α／CRP等）",
        [
            ("il6_pg_ml", "GT", D(7), None, "", "pg/mL"),
            ("tnf_alpha_pg_ml", "GT", D("8.1"), None, "", "pg/mL"),
            ("crp_mg_l", "GT", D(10), None, "", "mg/L"),
            ("pct_ng_ml", "GT", D("0.05"), None, "", "ng/mL"),
        ],
    ),
    (
        "I7",
        "INCLUSION",
        True,
        "The subjects are able to communicate well with the researchers and can "
        "complete the study in accordance with the study regulations",
        "受试者能与研究者良好沟通，并能按研究规定完成研究",
        [("able_to_communicate_and_complete", "IS_TRUE", None, None, "", "")],
    ),
    (
        "I8",
        "INCLUSION",
        True,
        "The subjects must be informed of this study and voluntarily sign a written "
        "informed consent form before the experiment",
        "受试者须在试验前知情并自愿签署书面知情同意书",
        [("written_informed_consent", "IS_TRUE", None, None, "", "")],
    ),
    (
        "E1",
        "EXCLUSION",
        True,
        "Patients with severe active bleeding or diffuse intravascular coagulation",
        "严重活动性出血或弥散性血管内凝血患者",
        [
            ("severe_active_bleeding", "IS_TRUE", None, None, "", ""),
            ("dic", "IS_TRUE", None, None, "", ""),
        ],
    ),
    (
        "E2",
        "EXCLUSION",
        True,
        "Patients with a high degree of allergy to blood products or drugs used "
        "during treatment, such as plasma, heparin, and protamine",
        "对治疗过程中所用血液制品或药物（如血浆、肝素、鱼精蛋白）高度过敏者",
        [("allergy_blood_products_or_study_drugs", "IS_TRUE", None, None, "", "")],
    ),
    (
        "E3",
        "EXCLUSION",
        True,
        "Patients with circulatory failure",
        "循环衰竭患者",
        [("circulatory_failure", "IS_TRUE", None, None, "", "")],
    ),
    (
        "E4",
        "EXCLUSION",
        False,
        "Patients with a MELD score > 30",
        "终末期肝病模型评分（MELD）>30分者",
        [("meld", "GT", D(30), None, "", "")],
    ),
    (
        "E5",
        "EXCLUSION",
        True,
        "Patients with other severe heart diseases, lung diseases, blood diseases, "
        "autoimmune diseases, or diabetes",
        "合并其他严重心脏疾病、肺部疾病、血液疾病、自身免疫性疾病或糖尿病者",
        [
            ("severe_comorbidity", "IS_TRUE", None, None, "", ""),
            ("diabetes", "IS_TRUE", None, None, "", ""),
        ],
    ),
    (
        "E6",
        "EXCLUSION",
        True,
        "Subjects who may be unable to complete this study for other reasons or who "
        "the researchers believe should not be included",
        "因其他原因可能无法完成本研究或研究者认为不宜入组者",
        [("investigator_excludes", "IS_TRUE", None, None, "", "")],
    ),
]
